// The map both pages share: Leaflet on EPSG:4326 (whose zoom-0 grid of 2×1 tiles is WorldCRS84Quad's), over a
// graticule that needs no internet.
"use strict";

const MapView = {
  create(elementId) {
    const map = L.map(elementId, { crs: L.CRS.EPSG4326, minZoom: 0, maxZoom: 18, worldCopyJump: false, maxBounds: [[-100, -200], [100, 200]] });
    map.setView([20, 0], 1);
    this.graticule().addTo(map);
    return map;
  },

  /// Lines every 30° (10° from zoom 3), drawn as vectors: a background that needs no tiles.
  graticule() {
    const layer = L.layerGroup();
    const style = { color: "#9aa8b5", weight: 1, opacity: 0.6, interactive: false };
    for (let lng = -180; lng <= 180; lng += 30) layer.addLayer(L.polyline([[-90, lng], [90, lng]], style));
    for (let lat = -90; lat <= 90; lat += 30) layer.addLayer(L.polyline([[lat, -180], [lat, 180]], style));
    layer.addLayer(L.rectangle([[-90, -180], [90, 180]], { color: "#5d6d7e", weight: 1, fill: false, interactive: false }));
    return layer;
  },

  /// A product's tiles as MapDepot serves them (404 outside the data: Leaflet leaves those blank).
  productLayer(record) {
    const zooms = (record.statistics || []).map((s) => s.zoom);
    return L.tileLayer(MapDepot.withToken("/catalog/records/" + record.id + "/tiles/{z}/{x}/{y}"), {
      tileSize: 256, noWrap: true, minZoom: 0, maxNativeZoom: zooms.length ? Math.max(...zooms) : 0, maxZoom: 18,
      bounds: [[-90, -180], [90, 180]], attribution: record.productName,
    });
  },

  /// GeoJSON geometry rings → Leaflet lat/lng rings.
  latLngs(geometry) {
    const ring = (coordinates) => coordinates.map(([lng, lat]) => [lat, lng]);
    if (geometry.type === "Polygon") return [geometry.coordinates.map(ring)];
    if (geometry.type === "MultiPolygon") return geometry.coordinates.map((polygon) => polygon.map(ring));
    return [];
  },
};
