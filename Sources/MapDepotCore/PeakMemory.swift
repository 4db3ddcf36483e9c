import Foundation

/// This process's peak resident set size (`VmHWM` in /proc/self/status), in KiB; 0 where unknown.
public enum PeakMemory {
    public static func kilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
