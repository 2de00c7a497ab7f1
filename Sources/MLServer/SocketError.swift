import MLEventCore

/// A failed system call (socket, bind, epoll, pthread_create...): the event-loop core's error,
/// under the name the node's API has always used.
public typealias SocketError = SystemCallError
