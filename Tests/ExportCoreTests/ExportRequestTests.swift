import ExportCore
import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import Testing
import TestSupport

/// The request schema of export-management v1.7.0 (`additionalProperties: false`), case by case.
@Suite struct ExportRequestTests {
    static let square = #"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}"#

    static func body(
        roi: String = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":\#(square)}]}"#,
        extra: String = "",
        webhooks: String = "[]",
        domain: String = #""RASTER""#,
        crs: String = #""4326""#,
        record: String = #""6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e""#
    ) -> String {
        #"{"catalogRecordID":\#(record),"domain":\#(domain),"artifactCRS":\#(crs),"webhooks":\#(webhooks),"ROI":\#(roi)\#(extra)}"#
    }

    func parse(_ text: String) throws -> ExportRequest {
        try ExportRequest(json: try JSONValue.parse(Data(text.utf8)))
    }

    /// Issue #12: a ring that crosses itself is refused for that, with where; simple rings (a country's too) pass.
    @Test func aSelfCrossingRingIsRefusedForWhatItIs() throws {
        func roi(_ geometry: String) -> String { #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":\#(geometry)}]}"# }
        let bowTie = #"{"type":"Polygon","coordinates":[[[0,0],[10,10],[10,0],[0,10],[0,0]]]}"#
        do {
            _ = try parse(Self.body(roi: roi(bowTie)))
            Issue.record("a bow tie was accepted")
        } catch let error as ServiceError {
            #expect(error.message == "ROI.features[0].geometry: ring 0 crosses itself at (5.0, 5.0); a ROI ring must be simple", "\(error.message)")
        }
        let france = CanonicalJSON.text(try Fixtures.country("France").geometry!.json)
        #expect(try parse(Self.body(roi: roi(france))).roi.count == 1)
        let holed = #"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,4],[4,4],[4,2],[2,2]]]}"#
        #expect(try parse(Self.body(roi: roi(holed))).roi.count == 1)
        #expect(throws: ServiceError.self) {
            try parse(Self.body(roi: roi(#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[0,0],[10,10],[10,0],[0,10],[0,0]]]]}"#)))
        }
    }

    @Test func acceptsAValidRequest() throws {
        let request = try parse(Self.body(extra: #","description":"d","keywords":{"k":"v"},"parameters":{}"#, webhooks: #"[{"url":"https://example.org/hook","events":["TASK_COMPLETED","TASK_FAILED"]}]"#))
        #expect(request.roi.count == 1)
        #expect(request.webhooks == [Webhook(url: "https://example.org/hook", events: [.taskCompleted, .taskFailed])])
        #expect(request.description == "d")
    }

    @Test(arguments: [
        (body(extra: #","color":"red""#), "color is not an allowed field"),
        (#"{"domain":"RASTER"}"#, "catalogRecordID is required"),
        (body(record: #""not-a-uuid""#), #"catalogRecordID must be a UUID, found "not-a-uuid""#),
        (body(domain: #""VECTOR""#), #"domain must be one of "RASTER", "DEM", "3D", found "VECTOR""#),
        (body(crs: #""3857""#), #"artifactCRS must be "4326""#),
        (body(crs: "4326"), #"artifactCRS must be "4326""#),
        (body(webhooks: "null"), "webhooks is required"),
        (body(webhooks: #"[{"url":"https://x.org","events":[]}]"#), "webhooks[0].events needs at least one event"),
        (body(webhooks: #"[{"url":"ftp://x.org","events":["TASK_FAILED"]}]"#), "webhooks[0].url must be an absolute http or https URL"),
        (body(webhooks: #"[{"url":"https://x.org","events":["TASK_DONE"]}]"#), "webhooks[0].events[0] must be one of"),
        (body(webhooks: #"[{"url":"https://x.org","events":["TASK_FAILED"],"secret":1,"x":2}]"#), "webhooks[0].x is not an allowed field"),
        (body(webhooks: #"[{"url":"https://x.org","events":["TASK_FAILED"],"secret":"short"}]"#), "webhooks[0].secret must be 16 to 256 characters"),
        (body(roi: #"{"type":"FeatureCollection","features":[]}"#), "ROI.features needs at least one feature"),
        (body(roi: #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}]}"#), "ROI.features[0].geometry must be a Polygon or MultiPolygon, found Point"),
        (body(roi: #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}"#), "ROI.features[0].geometry.coordinates[0]: the ring is not closed"),
        (body(roi: #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}"#), "ROI.features[0].geometry.coordinates[0]: a linear ring needs at least 4 positions"),
        (body(roi: #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[200,0],[1,1],[0,0]]]}}]}"#), "ROI.features[0].geometry.coordinates[0][1]: longitude 200.0 is outside [-180, 180]"),
        (body(roi: #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":"fine"},"geometry":\#(square)}]}"#), "ROI.features[0].properties.maxResolutionDeg must be a number"),
        (body(roi: #"{"type":"Feature","properties":{},"geometry":\#(square)}"#), #"ROI.type: must be "FeatureCollection""#),
        (body(extra: #","description":\#(String(repeating: "x", count: 2001).debugDescription)"#), "description is 2001 characters long"),
        ("[]", "the body must be a JSON object"),
    ])
    func refuses(text: String, message: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
        } catch let error as ServiceError {
            #expect(error.kind == .invalid)
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// Issue #9: webhooks are bounded, and merging them is linear.
@Suite struct WebhookLimitTests {
    static func body(hooks: Int) -> String {
        let list = (0..<hooks).map { #"{"url":"https://example.com/h\#($0)","events":["TASK_COMPLETED"]}"# }.joined(separator: ",")
        return #"{"catalogRecordID":"6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e","domain":"RASTER","artifactCRS":"4326","webhooks":[\#(list)],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}}"#
    }

    @Test func sixtyThousandWebhooksAreRefusedAtOnce() throws {
        let start = ContinuousClock.now
        #expect(throws: ServiceError.self) { try ExportRequest(json: try JSONValue.parse(Data(Self.body(hooks: 60_000).utf8))) }
        #expect(ContinuousClock.now - start < .seconds(5))
        _ = try ExportRequest(json: try JSONValue.parse(Data(Self.body(hooks: Webhook.maxPerTask).utf8)))
    }

    @Test func mergedWebhooksStayWithinTheLimit() {
        let existing = (0..<30).map { Webhook(url: "https://a/\($0)", events: [.taskCompleted]) }
        let added = (25..<40).map { Webhook(url: "https://a/\($0)", events: [.taskFailed]) }
        let merged = Webhook.merge(existing, added)
        #expect(merged.count == Webhook.maxPerTask)
        #expect(merged[25].events == [.taskCompleted, .taskFailed])
    }
}
