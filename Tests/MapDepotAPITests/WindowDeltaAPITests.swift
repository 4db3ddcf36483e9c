import Foundation
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import NIOCore
import Testing
import TestSupport

/// `POST /layers/{layerId}/deltas` over HTTP (issue #14 item 4): windows by sequence or time, an area where leaving is a
/// deletion and entering a creation, 201 then 200 from the cache, downloadable zips, and refusals that say what is wrong.
@Suite struct WindowDeltaAPITests {
    static func point(_ id: String, _ x: Double) -> String {
        #"{"type":"Feature","id":"\#(id)","properties":{"name":"\#(id)\#(x)"},"geometry":{"type":"Point","coordinates":[\#(x),1]}}"#
    }

    @Test func anAreaWindowTurnsLeavingIntoDeletionAndEnteringIntoCreation() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":3,"layerName":"windows","geometryTypes":["point"]}"#)
            func change(_ body: String) async throws -> [String: JSONValue] {
                let response = try await client.call(.post, "/layers/3/changes", token: server.writer, body: body)
                #expect(response.status == .ok, "\(response.message)")
                return response.json.objectValue ?? [:]
            }
            // Change 1: a (inside), b (inside), d (outside), f (inside).
            let first = try await change(ReplicationAPITests.upserts(Self.point("a", 1), Self.point("b", 1.2), Self.point("d", 9), Self.point("f", 1.1)))
            try await Task.sleep(for: .milliseconds(5))
            // Change 2: a modified inside, b leaves, c enters, e created inside; change 3: e and f deleted.
            _ = try await change(ReplicationAPITests.upserts(Self.point("a", 1.3), Self.point("b", 8), Self.point("c", 1.4), Self.point("e", 1)))
            _ = try await change(#"{"deletes":["e","f"]}"#)
            let area = "[0, 0, 2, 2]"

            let made = try await client.call(.post, "/layers/3/deltas", token: server.reader, body: #"{"geometryType":"point","from":1,"bbox":\#(area)}"#)
            #expect(made.status == .created, "\(made.message)")
            let delta = made.json.objectValue ?? [:]
            #expect(delta["fromChangeSequence"] == .number(1) && delta["changeSequence"] == .number(3) && delta["cached"] == .bool(false))
            #expect(delta["fromTimestamp"]?.stringValue == first["timestamp"]?.stringValue)
            // The zip: a modified, c created; b (left) and f (deleted) are deletions; d and e appear nowhere.
            let url = try #require(delta["files"]?.arrayValue?.first?.objectValue?["url"]?.stringValue)
            let zip = try await client.call(.get, String(url[url.range(of: "/downloads/")!.lowerBound...]), token: server.reader)
            #expect(zip.status == .ok)
            let path = try Fixtures.temporaryDirectory("window") + "/w.zip"
            try Data(zip.body.readableBytesView).write(to: URL(fileURLWithPath: path))
            let listing = try await Shell.run("unzip", ["-p", path])
            #expect(listing.contains(#""id":"a""#) && listing.contains(#""id":"c""#) && !listing.contains(#""id":"d""#) && !listing.contains(#""id":"e""#))
            let deleted = try await Shell.run("sh", ["-c", "unzip -p '\(path)' 'deleted_*'"])
            #expect(try JSONValue.parse(Data(deleted.utf8)).arrayValue?.compactMap(\.stringValue).sorted() == ["b", "f"], "\(deleted)")

            // The same window by time is the same question: answered from the cache.
            let byTime = try await client.call(
                .post, "/layers/3/deltas", token: server.reader,
                body: #"{"geometryType":"point","from":"\#(first["timestamp"]!.stringValue!)","bbox":\#(area)}"#
            )
            #expect(byTime.status == .ok && byTime.json.objectValue?["cached"] == .bool(true) && byTime.json.objectValue?["urls"] == delta["urls"])

            for (body, status, message) in [
                (#"{"geometryType":"point","from":3,"to":1}"#, HTTPResponse.Status.badRequest, "from (change 3) is after to (change 1)"),
                (#"{"geometryType":"point","from":0,"to":9}"#, .badRequest, "to (change 9) is after the layer's last change (3)"),
                (#"{"geometryType":"polygon","from":0}"#, .badRequest, "layer 3 holds no polygon features (it holds point)"),
                (#"{"geometryType":"point"}"#, .badRequest, "from is required: a change sequence or a date-time"),
                (#"{"geometryType":"point","from":-1}"#, .badRequest, "from must be a change sequence (integer ≥ 0) or an RFC 3339 date-time"),
                (#"{"geometryType":"point","from":0,"bbox":[2,0,1,1]}"#, .badRequest, "bbox must be [minLon, minLat, maxLon, maxLat] with min ≤ max, inside −180…180 and −90…90"),
            ] {
                let refused = try await client.call(.post, "/layers/3/deltas", token: server.reader, body: body)
                #expect(refused.status == status && refused.message == message, "\(body): \(refused.status) \(refused.message)")
            }
            #expect(try await client.call(.post, "/layers/4/deltas", token: server.reader, body: #"{"geometryType":"point","from":0}"#).status == .notFound)
        }
    }
}
