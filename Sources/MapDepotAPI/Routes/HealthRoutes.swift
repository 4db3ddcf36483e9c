import ExportCore
import GeoJSON
import Hummingbird
import JSONValues
import MapDepotCore
import NIOCore
import Prometheus

/// `/liveness`, `/readiness` and `/metrics`: open, no token (SPEC "Ops").
struct HealthRoutes: Sendable {
    let health: any HealthCheck
    let artifacts: any ArtifactStore
    let metrics: PrometheusCollectorRegistry
    /// Below this many free bytes on the artifact store the node is not ready: exports would fail.
    var minimumFreeBytes: Int64 = 16 << 20

    func register(on router: Router<BasicRequestContext>) {
        router.get("liveness") { _, _ in JSONResponse.make(.object(["status": .string("ok")])) }
        router.get("readiness") { _, _ in
            do {
                try await health.check()
            } catch {
                return JSONResponse.message("the state database does not answer: \(error)", status: .serviceUnavailable)
            }
            do {
                try await artifacts.check()
            } catch {
                return JSONResponse.message("the artifact store does not answer: \(error)", status: .serviceUnavailable)
            }
            if let free = try? artifacts.freeBytes(), free < minimumFreeBytes {
                return JSONResponse.message(
                    "the artifact store has \(free) bytes free, under the \(minimumFreeBytes) an export needs to start", status: .serviceUnavailable
                )
            }
            return JSONResponse.make(.object(["status": .string("ok")]))
        }
        let info = metrics.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "mapdepot", metricName: "build", unitName: "info", helpText: "MapDepot's version, as a label"
            ),
            labels: [("version", MapDepotVersion.current)]
        )
        info.set(Int64(1))
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.emitToString()))
            )
        }
    }
}

/// MapDepot's version, reported in metrics and the CLI.
public enum MapDepotVersion {
    public static let current = "0.1.0"
}
