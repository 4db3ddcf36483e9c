import Foundation
import MapDepotCore

/// What `mapdepot replicate --follow` waits on between runs: a publication the server announced (its event stream rings
/// it), or the polling interval, whichever comes first, so a lost stream only makes the mirror as slow as polling.
public actor SyncDoorbell {
    private var rung = false
    private var waiter: CheckedContinuation<Void, Never>?
    private let clock: any WallClock

    public init(clock: any WallClock) { self.clock = clock }

    public func ring() {
        rung = true
        waiter?.resume()
        waiter = nil
    }

    /// Returns at the next ring (at once if one came since the last wait) or after `timeout`.
    public func wait(timeout: Duration) async {
        if rung {
            rung = false
            return
        }
        let clock = self.clock
        let timer = Task { [weak self] in
            try? await clock.sleep(for: timeout)
            await self?.ring()
        }
        await withCheckedContinuation { waiter = $0 }
        timer.cancel()
        rung = false
    }
}
