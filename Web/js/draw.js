// Drawing regions on the map, written for MapDepot (issue #11): a rectangle from two clicks, a polygon from clicks
// finished by "Finish polygon", a double click or Enter; Escape cancels. Each finished shape is handed over as a
// GeoJSON Polygon. (Corner coordinates and uploads are the keyboard's way in.)
"use strict";

class RegionDrawer {
  constructor(map, { onShape, onHint, finishButton }) {
    this.map = map;
    this.onShape = onShape;
    this.onHint = onHint;
    this.finishButton = finishButton;
    this.mode = null;
    this.points = [];
    this.preview = null;
    map.on("click", (event) => this.click(event.latlng));
    map.on("mousemove", (event) => this.move(event.latlng));
    map.on("dblclick", (event) => { if (this.mode === "polygon") { L.DomEvent.stop(event); this.finish(); } });
    document.addEventListener("keydown", (event) => {
      if (!this.mode) return;
      if (event.key === "Escape") this.cancel();
      if (event.key === "Enter" && this.mode === "polygon") this.finish();
    });
  }

  start(mode) {
    this.cancel();
    this.mode = mode;
    this.map.closePopup();
    this.map.doubleClickZoom.disable();
    this.map.getContainer().classList.add("drawing");
    this.onHint(mode === "rectangle" ? "Click two opposite corners on the map (Escape cancels)." :
      "Click each corner on the map, then Finish polygon, double-click or Enter (Escape cancels).");
    this.finishButton.disabled = mode !== "polygon";
  }

  cancel() {
    if (this.preview) this.preview.remove();
    this.preview = null;
    this.points = [];
    this.mode = null;
    this.map.doubleClickZoom.enable();
    this.map.getContainer().classList.remove("drawing");
    this.finishButton.disabled = true;
    this.onHint("");
  }

  static clamp(latlng) {
    return [Math.max(-180, Math.min(180, latlng.lng)), Math.max(-90, Math.min(90, latlng.lat))];
  }

  click(latlng) {
    if (!this.mode) return;
    this.points.push(RegionDrawer.clamp(latlng));
    if (this.mode === "rectangle" && this.points.length === 2) {
      const [[x1, y1], [x2, y2]] = this.points;
      const [west, east, south, north] = [Math.min(x1, x2), Math.max(x1, x2), Math.min(y1, y2), Math.max(y1, y2)];
      this.cancel();
      if (west < east && south < north) this.onShape(RegionDrawer.box(west, south, east, north));
      return;
    }
    this.draw(this.points);
  }

  move(latlng) {
    if (!this.mode || this.points.length === 0) return;
    const cursor = RegionDrawer.clamp(latlng);
    if (this.mode === "rectangle") {
      const [x, y] = this.points[0];
      this.draw([[x, y], [cursor[0], y], cursor, [x, cursor[1]]]);
    } else {
      this.draw([...this.points, cursor]);
    }
  }

  draw(points) {
    if (this.preview) this.preview.remove();
    this.preview = L.polygon(points.map(([lng, lat]) => [lat, lng]), { color: "#d35400", dashArray: "4 4", interactive: false }).addTo(this.map);
  }

  finish() {
    if (this.mode !== "polygon") return;
    // A double click adds its point twice: drop repeats.
    const points = this.points.filter((p, i, all) => i === 0 || p[0] !== all[i - 1][0] || p[1] !== all[i - 1][1]);
    this.cancel();
    if (points.length < 3) { this.onHint("A polygon needs at least three corners."); return; }
    this.onShape({ type: "Polygon", coordinates: [[...points, points[0]]] });
  }

  static box(west, south, east, north) {
    return { type: "Polygon", coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]] };
  }
}
