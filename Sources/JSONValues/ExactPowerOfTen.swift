/// 10^0 … 10^22, the powers of ten a Double holds exactly: the exact fast paths of reading and writing decimal numbers
/// (``JSONParser/number()``, `CanonicalJSON.writeNumber`).
///
/// A switch of literals, not a `static let` table: a global table is reached through a one-time-initialisation check on
/// every use, which was 2 % of a change set's ingestion (issue #15).
public enum ExactPowerOfTen {
    /// 10^`exponent`, for `exponent` in 0…22.
    @inline(__always)
    public static func of(_ exponent: Int) -> Double {
        switch exponent {
        case 0: 1
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }
}
