import CEpoll
import Glibc

/// Listening TCP sockets, for the event loops and the admin server. The event loops share ONE
/// socket (each registers it with EPOLLEXCLUSIVE), never SO_REUSEPORT: that option lets any other
/// process of the same user bind the port too, and a second node started by mistake would
/// silently take half of the new connections. Without it a second bind fails with EADDRINUSE.
enum Listener {
    /// A non-blocking listening socket on `host` (IPv4 dotted quad or IPv6 literal); port 0 picks
    /// an ephemeral one (`boundPort` reads it back). SO_REUSEADDR so a restarted node can rebind at
    /// once (it does not allow two listeners on one port).
    static func open(host: String, port: UInt16, backlog: Int32 = 1024) throws(SocketError) -> Int32 {
        let v6 = host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        // nil: `host` is not an IP address of the family it looks like.
        let bound: Int32?
        if v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            bound = inet_pton(AF_INET6, host, &address.sin6_addr) == 1 ? bind(fd, &address) : nil
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            bound = inet_pton(AF_INET, host, &address.sin_addr) == 1 ? bind(fd, &address) : nil
        }
        guard let bound else {
            Glibc.close(fd)
            throw SocketError("inet_pton(\(host)): not an IP address", code: EINVAL)
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SocketError("bind \(host):\(port)", code: code)
        }
        guard Glibc.listen(fd, backlog) == 0, AdminSocket.setNonBlocking(fd) else {
            let code = errno
            Glibc.close(fd)
            throw SocketError("listen", code: code)
        }
        return fd
    }

    /// bind(2) with a sockaddr_in or sockaddr_in6, its size taken from the type.
    private static func bind<Address>(_ fd: Int32, _ address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    /// The port a socket is bound to (after binding port 0).
    static func boundPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return 0 }
        return withUnsafePointer(to: &storage) { pointer in
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// Accepts one connection as non-blocking with TCP_NODELAY; nil when none is pending.
    static func accept(_ listenFD: Int32) -> Int32? {
        let fd = accept4(listenFD, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }
}
