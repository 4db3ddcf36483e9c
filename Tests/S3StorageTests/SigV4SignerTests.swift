import Crypto
import Foundation
import MapDepotCore
import S3Storage
import Testing
import TestSupport

/// The signer against AWS's published examples (S3 API reference, "Signature Calculations for the Authorization
/// Header" and "… Query String Parameters") and against botocore, the signer of AWS's own SDK for Python.
struct SigV4SignerTests {
    let example = SigV4Signer(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    let may24 = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    @Test func getObjectWithRangeMatchesAWSExample() {
        let request = SigV4Signer.Request(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", headers: [("Range", "bytes=0-9")]
        )
        let headers = Dictionary(uniqueKeysWithValues: example.sign(request, payloadHash: SigV4Signer.emptyPayloadHash, date: may24))
        #expect(headers["x-amz-date"] == "20130524T000000Z")
        #expect(
            headers["Authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test func presignedURLMatchesAWSExample() {
        let request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt")
        let query = Dictionary(uniqueKeysWithValues: example.presignedQuery(request, expires: 86_400, date: may24))
        #expect(query["X-Amz-Credential"] == "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request")
        #expect(query["X-Amz-Signature"] == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func encodingFollowsRFC3986() {
        #expect(SigV4Signer.encode("a b+c/d~e_f.g-h") == "a%20b%2Bc%2Fd~e_f.g-h")
        #expect(SigV4Signer.encode("exports/1/é.gpkg", keepSlash: true) == "exports/1/%C3%A9.gpkg")
        #expect(SigV4Signer.canonicalQuery([("uploads", ""), ("b", "2"), ("a", "x y")]) == "a=x%20y&b=2&uploads=")
    }

    /// An upload part with a query, a content type and a signed payload, signed by botocore at the same instant
    /// (its clock patched); botocore comes with moto, so this runs where the S3 tests run.
    @Test(.enabled(if: TestS3.endpoint != nil, "botocore comes with moto (scripts/test)"))
    func uploadPartMatchesBotocore() async throws {
        let payload = Data("a part of a GeoPackage".utf8)
        let script = """
            import botocore.auth, datetime
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            botocore.auth.get_current_datetime = lambda *a, **k: datetime.datetime(2026, 11, 21, 12, 30, 45)
            request = AWSRequest(method="PUT", url="http://127.0.0.1:9000/bucket/deploy/exports/1/a%20b%2Bc.gpkg?partNumber=2&uploadId=x%2By%3D",
                                 data=b"a part of a GeoPackage", headers={"content-type": "application/geopackage+sqlite3"})
            botocore.auth.S3SigV4Auth(Credentials("AKIDEXAMPLE", "secret/key+1"), "s3", "eu-west-1").add_auth(request)
            print(request.headers["Authorization"])
            """
        // botocore separates the Authorization parts with ", ", AWS's examples (and MapDepot) with ","; both are valid.
        let expected = try await Shell.run(ToolsPython.path, ["-c", script]).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ", ", with: ",")
        let signer = SigV4Signer(accessKey: "AKIDEXAMPLE", secretKey: "secret/key+1", region: "eu-west-1")
        let request = SigV4Signer.Request(
            method: "PUT", host: "127.0.0.1:9000", path: "/bucket/" + SigV4Signer.encode("deploy/exports/1/a b+c.gpkg", keepSlash: true),
            query: [("partNumber", "2"), ("uploadId", "x+y=")], headers: [("Content-Type", "application/geopackage+sqlite3")]
        )
        let date = Date(timeIntervalSince1970: 1_795_264_245)  // 2026-11-21T12:30:45Z
        let headers = Dictionary(uniqueKeysWithValues: signer.sign(request, payloadHash: Hex.encode(SHA256.hash(data: payload)), date: date))
        #expect(headers["Authorization"] == expected)
    }
}
