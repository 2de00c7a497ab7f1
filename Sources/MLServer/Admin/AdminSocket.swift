import Glibc

/// The few socket calls the admin server makes beyond `Listener`'s, over plain Glibc (`accept` +
/// `fcntl`, no epoll, no accept4: the admin port handles a handful of connections and must not
/// depend on the data path's C shim).
enum AdminSocket {
    /// One pending connection, non-blocking, close-on-exec, TCP_NODELAY; nil when none is pending
    /// (or the accept failed: ECONNABORTED and EMFILE both just mean "not this time").
    static func accept(_ listenFD: Int32) -> Int32? {
        let fd = Glibc.accept(listenFD, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard setNonBlocking(fd) else {
            Glibc.close(fd)
            return nil
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    /// Best-effort write of a short message on a fresh socket (the over-capacity 503); never blocks
    /// and never raises SIGPIPE.
    static func sendOnce(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
