import JSONValues

/// A GeoJSON document that does not follow the rules: the same error as a JSON one (a member path and a reason), since
/// a GeoJSON fault is found while reading the JSON value.
public typealias GeoJSONError = JSONError
