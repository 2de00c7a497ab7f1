import CEpoll
import Glibc

/// A named pthread running one closure, joined explicitly: the node's loops, the admin loop and
/// mlbench's drivers each get a dedicated thread, not Dispatch, because a Dispatch hop costs
/// 160-250 ns the loops never pay and a load thread must not share a pool with anything else.
public struct LoopThread: Sendable {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private let thread: pthread_t

    /// Starts `body` on a new thread named `name` (the first 15 bytes, as perf and gdb show it).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemCallError) -> LoopThread {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw SystemCallError("pthread_create", code: created)
        }
        _ = pthread_setname_np(thread, String(name.prefix(15)))
        return LoopThread(thread: thread)
    }

    /// Blocks until the thread's closure has returned.
    public func join() {
        pthread_join(thread, nil)
    }
}
