import CEpoll
import Glibc

/// A named pthread running one closure, joined explicitly. Dedicated threads, not Dispatch: the
/// load thread must not share a pool with anything else.
struct BenchThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private let thread: pthread_t

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(created == 0, "pthread_create failed: \(created)")
        _ = pthread_setname_np(thread, String(name.prefix(15)))
        self.thread = thread
    }

    func join() {
        pthread_join(thread, nil)
    }
}
