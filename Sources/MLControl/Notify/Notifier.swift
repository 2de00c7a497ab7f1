import Foundation

/// Delivers an `AlertNotification` on every configured channel: a line on stdout always, then
/// the webhook and the notify command if the policy names them. Channels are independent; each
/// one's fate is returned so the watch loop can record it on the incident. Nothing here throws:
/// notifying is the last thing between a rollback and people hearing about it, and a failure
/// must be reported, never take the controller down.
public struct Notifier: Sendable {
    public var webhookURL: String?
    public var notifyCommand: String?
    public var connectTimeout: Double
    public var readTimeout: Double
    public var commandTimeout: Double
    /// Where the one-line summary goes; stdout by default, a capture in tests.
    public var printLine: @Sendable (String) -> Void

    public init(webhookURL: String? = nil, notifyCommand: String? = nil, timeout: Double = 5,
                printLine: @escaping @Sendable (String) -> Void = Notifier.writeToStdout) {
        self.webhookURL = webhookURL
        self.notifyCommand = notifyCommand
        self.connectTimeout = timeout
        self.readTimeout = timeout
        self.commandTimeout = timeout
        self.printLine = printLine
    }

    public init(policy: RunbookPolicy, printLine: @escaping @Sendable (String) -> Void = Notifier.writeToStdout) {
        self.init(webhookURL: policy.webhookURL, notifyCommand: policy.notifyCommand,
                  timeout: policy.notifyTimeoutSeconds, printLine: printLine)
    }

    /// Sends on every channel in turn (stdout, webhook, command) and reports each.
    @discardableResult
    public func notify(_ notification: AlertNotification) -> [NotificationOutcome] {
        printLine(notification.summaryLine)
        var outcomes = [NotificationOutcome(channel: .stdout, succeeded: true, detail: "printed")]
        let json = notification.jsonData()
        if let url = webhookURL {
            switch HTTPPost.post(url: url, body: [UInt8](json), connectTimeout: connectTimeout, readTimeout: readTimeout) {
            case .success(let code):
                outcomes.append(NotificationOutcome(channel: .webhook, succeeded: true, detail: "HTTP \(code)"))
            case .failure(let failure):
                outcomes.append(NotificationOutcome(channel: .webhook, succeeded: false, detail: "POST \(url): \(failure)"))
            }
        }
        if let command = notifyCommand {
            let result = ShellCommand.run(command, stdin: json, timeout: commandTimeout)
            outcomes.append(NotificationOutcome(channel: .command, succeeded: result.succeeded, detail: result.detail))
        }
        for failed in outcomes where !failed.succeeded {
            printLine("\(notification.timestamp) NOTIFY-FAILED incident=\(notification.incidentID) \(failed)")
        }
        return outcomes
    }

    /// Unbuffered, so lines reach a pipe or journal immediately rather than at exit.
    public static let writeToStdout: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
