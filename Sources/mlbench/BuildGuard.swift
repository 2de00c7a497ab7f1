import Glibc

/// Debug builds run the hot paths of both mlbench and the child node several times slower and
/// with different proportions, so their numbers mislead. Refuse unless asked explicitly.
enum BuildGuard {
    static var isDebugBuild: Bool {
        #if DEBUG
        return true
        #else
        return false
        #endif
    }

    static var buildName: String { isDebugBuild ? "debug" : "release" }

    /// Exits with status 2 and an explanation when this is a debug build and `allowDebug` is false.
    static func refuseDebugUnlessAllowed(_ allowDebug: Bool) {
        guard isDebugBuild, !allowDebug else { return }
        let message = """
        mlbench: refusing to run from a debug build: numbers from debug builds mislead (the hot
        paths of mlbench and of the mlserve it starts are several times slower, and not uniformly).
        Build and run the release binaries instead:
            swift build -c release && .build/release/mlbench ...
        or pass --allow-debug to run anyway (for testing the harness itself, not for figures).

        """
        writeStderr(message)
        exit(2)
    }
}
