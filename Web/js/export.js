// The export page (issue #11): pick a product, draw or upload the region, estimate, export, follow the tasks.
"use strict";

MapDepot.requireToken();

const { $, status } = MapDepot.page();
const state = { records: [], record: null, selections: [], estimate: null, estimateError: null, streams: new Map(), taskLayer: null };
const map = MapView.create("map");
let productLayer = null;
let footprintLayer = null;

/// Degrees per pixel of WorldCRS84Quad at `zoom` (0.703125 at zoom 0).
const resolution = (zoom) => 0.703125 / 2 ** zoom;
const metres = (zoom, lat) => resolution(zoom) * 111_320 * Math.cos((lat * Math.PI) / 180);


// MARK: Product

async function loadRecords() {
  try {
    // RASTER by zoom; 3D (a 3D Tiles tileset) whole or by region, as MapColonies' export UI offers them.
    state.records = (await MapDepot.call("GET", "/catalog/records")).filter((r) => ["RASTER", "3D", "DEM"].includes(r.domain));
  } catch (error) { status(error.message); return; }
  const select = $("record");
  select.replaceChildren(...state.records.map((r) => MapDepot.element("option", { value: r.id }, `${r.productName} (${r.productId} v${r.productVersion})`)));
  if (state.records.length === 0) status("No product this token may export.");
  selectRecord();
}

function zoomRange(record) {
  const zooms = (record.statistics || []).map((s) => s.zoom);
  return zooms.length ? [Math.min(...zooms), Math.max(...zooms)] : [0, 0];
}

function selectRecord() {
  state.record = state.records.find((r) => r.id === $("record").value) || null;
  if (productLayer) productLayer.remove();
  if (footprintLayer) footprintLayer.remove();
  if (!state.record) return;
  const record = state.record;
  const [minZoom, maxZoom] = zoomRange(record);
  footprintLayer = L.polygon(MapView.latLngs(record.footprint), { color: "#2471a3", weight: 2, fill: false, interactive: false }).addTo(map);
  $("dem-options").hidden = record.domain !== "DEM";
  // A DEM or a 3D tileset covers a small area: show it.
  if (record.domain !== "RASTER") map.fitBounds(footprintLayer.getBounds(), { padding: [24, 24] });
  if (record.domain === "DEM") {
    // A DEM's GeoTIFF is not served as map tiles: its footprint is drawn; one selection, with its options.
    productLayer = null;
    $("dem-resolution").value = record.maxResolutionMeter || "";
    $("dem-data-type").value = record.dataType || "INT16";
    $("record-info").textContent = `${record.productType}, a DEM (${record.dataType}, ${record.units}${record.verticalDatum ? ", " + record.verticalDatum : ""}, `
      + `nodata ${record.noDataValue}, ${record.maxResolutionMeter} m cells): exported as a GeoPackage gridded coverage.`;
    while (state.selections.length > 1) removeSelection(state.selections[0]);
  } else if (record.domain === "3D") {
    // A tileset has no map tiles to show: its footprint is drawn, and whole tiles meeting the region are exported.
    productLayer = null;
    $("record-info").textContent = `${record.productType}, a 3D Tiles tileset: the export keeps every tile that meets the selections `
      + `(use the footprint for the whole layer), zipped with its metadata.`;
  } else {
    productLayer = MapView.productLayer(record).addTo(map);
    $("record-info").textContent = `${record.productType}, zoom ${minZoom}–${maxZoom} (${resolution(maxZoom).toPrecision(3)}°/px at best), `
      + `format ${record.tileOutputFormat || "PNG"}, ${record.statistics.reduce((n, s) => n + s.tiles, 0)} tiles.`;
  }
  for (const selection of state.selections) clampZooms(selection);
  renderSelections();
  scheduleEstimate();
}

$("record").addEventListener("change", selectRecord);

// MARK: Selections

const drawer = new RegionDrawer(map, { onShape: addSelection, onHint: (text) => { $("draw-hint").textContent = text; }, finishButton: $("finish-polygon") });
$("draw-rectangle").addEventListener("click", () => drawer.start("rectangle"));
$("draw-polygon").addEventListener("click", () => drawer.start("polygon"));
$("finish-polygon").addEventListener("click", () => drawer.finish());
$("use-footprint").addEventListener("click", () => { if (state.record) addSelection(state.record.footprint); });
$("add-corners").addEventListener("click", () => {
  const [west, south, east, north] = ["west", "south", "east", "north"].map((id) => parseFloat($(id).value));
  if ([west, south, east, north].some(Number.isNaN)) { $("draw-hint").textContent = "Type all four corners (degrees)."; return; }
  if (!(west < east && south < north)) { $("draw-hint").textContent = "West must be less than east, and south less than north."; return; }
  addSelection(RegionDrawer.box(west, south, east, north));
});

$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  try {
    const geometries = polygonsOf(JSON.parse(await file.text()));
    if (geometries.length === 0) throw new Error("it holds no Polygon or MultiPolygon");
    for (const geometry of geometries) addSelection(geometry);
    $("draw-hint").textContent = `${file.name}: ${geometries.length} selection(s) added.`;
  } catch (error) {
    $("draw-hint").textContent = `${file.name} could not be used: ${error.message}`;
  }
  $("upload").value = "";
});

/// The Polygon and MultiPolygon geometries of a GeoJSON document (geometry, Feature or FeatureCollection).
function polygonsOf(json) {
  if (!json || typeof json !== "object") return [];
  if (json.type === "FeatureCollection") return (json.features || []).flatMap(polygonsOf);
  if (json.type === "Feature") return polygonsOf(json.geometry);
  if (json.type === "Polygon" || json.type === "MultiPolygon") return [{ type: json.type, coordinates: json.coordinates }];
  if (json.type === "GeometryCollection") return (json.geometries || []).flatMap(polygonsOf);
  return [];
}

function clampZooms(selection) {
  const [minZoom, maxZoom] = state.record ? zoomRange(state.record) : [0, 0];
  selection.maxZoom = Math.min(Math.max(selection.maxZoom ?? maxZoom, minZoom), maxZoom);
  selection.minZoom = Math.min(Math.max(selection.minZoom ?? minZoom, minZoom), selection.maxZoom);
}

function addSelection(geometry) {
  // A DEM export takes one selection (MapColonies' export UI): a new one replaces it.
  if (state.record && state.record.domain === "DEM") while (state.selections.length) removeSelection(state.selections[0]);
  const selection = { geometry, layer: L.polygon(MapView.latLngs(geometry), { color: "#d35400", weight: 2 }).addTo(map) };
  clampZooms(selection);
  state.selections.push(selection);
  renderSelections();
  scheduleEstimate();
}

/// Editing a selection: a handle on each corner, dragged to move it; "Done editing" keeps the new shape.
function toggleEditing(selection) {
  if (selection.editing) {
    for (const handle of selection.editing) handle.remove();
    selection.editing = null;
    renderSelections();
    scheduleEstimate();
    return;
  }
  const polygons = selection.geometry.type === "Polygon" ? [selection.geometry.coordinates] : selection.geometry.coordinates;
  selection.editing = [];
  polygons.forEach((rings, p) => rings.forEach((ring, r) => ring.slice(0, -1).forEach(([lng, lat], v) => {
    const handle = L.marker([lat, lng], { draggable: true, keyboard: true, title: `Corner ${v + 1}`, icon: L.divIcon({ className: "vertex", iconSize: [14, 14] }) });
    handle.on("drag", (event) => {
      const { lat: newLat, lng: newLng } = event.target.getLatLng();
      const point = [Math.max(-180, Math.min(180, newLng)), Math.max(-90, Math.min(90, newLat))];
      ring[v] = point;
      if (v === 0) ring[ring.length - 1] = point;
      selection.layer.setLatLngs(MapView.latLngs(selection.geometry));
    });
    selection.editing.push(handle.addTo(map));
  })));
  renderSelections();
}

function removeSelection(selection) {
  if (selection.editing) for (const handle of selection.editing) handle.remove();
  selection.layer.remove();
  state.selections = state.selections.filter((s) => s !== selection);
  renderSelections();
  scheduleEstimate();
}

function latitudeOf(selection) { return selection.layer.getBounds().getCenter().lat; }

function zoomSelect(id, label, value, onChange, latitude) {
  const [minZoom, maxZoom] = state.record ? zoomRange(state.record) : [0, 0];
  const select = MapDepot.element("select", { id, onchange: (event) => onChange(parseInt(event.target.value, 10)) });
  for (let zoom = minZoom; zoom <= maxZoom; zoom += 1) {
    select.append(MapDepot.element("option", { value: zoom, selected: zoom === value },
      `zoom ${zoom} · ${resolution(zoom).toPrecision(3)}°/px · ${Math.round(metres(zoom, latitude)).toLocaleString("en")} m/px`));
  }
  return [MapDepot.element("label", { for: id }, label), select];
}

function renderSelections(faultIndex) {
  $("selections").replaceChildren(...state.selections.map((selection, index) => {
    const latitude = latitudeOf(selection);
    const item = MapDepot.element("li", { class: index === faultIndex ? "fault" : "" },
      MapDepot.element("span", {}, `Selection ${index + 1}: ${selection.geometry.type}`),
      ...(state.record && state.record.domain !== "RASTER" ? [] : [
      ...zoomSelect(`min-zoom-${index}`, "From", selection.minZoom, (zoom) => { selection.minZoom = zoom; selection.maxZoom = Math.max(zoom, selection.maxZoom); renderSelections(); scheduleEstimate(); }, latitude),
      ...zoomSelect(`max-zoom-${index}`, "to", selection.maxZoom, (zoom) => { selection.maxZoom = zoom; selection.minZoom = Math.min(zoom, selection.minZoom); renderSelections(); scheduleEstimate(); }, latitude)]),
      MapDepot.element("button", { type: "button", class: "edit", onclick: () => toggleEditing(selection) }, selection.editing ? "Done editing" : "Edit"),
      MapDepot.element("button", { type: "button", class: "delete", onclick: () => removeSelection(selection) }, "Delete"));
    selection.layer.setStyle({ color: index === faultIndex ? "#c0392b" : "#d35400", weight: index === faultIndex ? 4 : 2 });
    return item;
  }));
}

// MARK: Estimate and export

function requestBody() {
  return {
    catalogRecordID: state.record.id, domain: state.record.domain, artifactCRS: "4326", webhooks: [],
    ROI: {
      type: "FeatureCollection",
      features: state.selections.map((s) => ({
        type: "Feature", geometry: s.geometry,
        properties: state.record.domain !== "RASTER" ? {} : { maxResolutionDeg: resolution(s.maxZoom), minResolutionDeg: resolution(s.minZoom) },
      })),
    },
    ...(state.record.domain === "DEM" ? { parameters: demParameters() } : {}),
  };
}

/// The DEM options, as `parameters` carries them.
function demParameters() {
  const metres = parseFloat($("dem-resolution").value);
  return {
    dataType: $("dem-data-type").value, resampleMethod: $("dem-resampling").value, projection: $("dem-projection").value,
    ...(metres > 0 ? { resolutionMeter: metres } : {}),
  };
}
for (const id of ["dem-resolution", "dem-data-type", "dem-resampling"]) $(id).addEventListener("change", () => scheduleEstimate());

let estimateTimer = null;
function scheduleEstimate() {
  clearTimeout(estimateTimer);
  state.estimate = null;
  state.estimateError = null;
  delete $("estimate-result").dataset.tiles;
  updateExportButton();
  if (state.record && state.selections.length) estimateTimer = setTimeout(estimate, 300);
  else $("estimate-result").textContent = "";
}

/// A refusal names the member at fault (`ROI.features[1].geometry…`): its selection is outlined in red.
function faultIndex(message) {
  const match = /features\[(\d+)\]/.exec(message || "");
  return match ? parseInt(match[1], 10) : undefined;
}

async function estimate() {
  if (!state.record || state.selections.length === 0) return;
  $("estimate-result").textContent = "Estimating…";
  try {
    state.estimate = await MapDepot.call("POST", "/export-tasks/estimate", requestBody());
    state.estimateError = null;
    const e = state.estimate;
    $("estimate-result").textContent = `Estimate: ${e.tiles.toLocaleString("en")} tiles, ${MapDepot.formatBytes(e.estimatedSize)}, `
      + `about ${MapDepot.formatSeconds(e.estimatedTime)}; ${MapDepot.formatBytes(e.freeStorage)} of storage free.`;
    $("estimate-result").dataset.tiles = e.tiles;
    renderSelections();
  } catch (error) {
    state.estimate = null;
    state.estimateError = error.message;
    $("estimate-result").textContent = "";
    renderSelections(faultIndex(error.message));
  }
  updateExportButton();
}

function updateExportButton() {
  let reason = "";
  if (!state.record) reason = "Choose a product.";
  else if (state.selections.length === 0) reason = "Draw, type or upload a region first.";
  else if (state.estimateError) reason = "The export cannot run: " + state.estimateError;
  else if (!state.estimate) reason = "Waiting for the estimate.";
  else if (state.estimate.tiles === 0) reason = "The region holds no tiles of the product.";
  else if (state.estimate.estimatedSize > state.estimate.freeStorage) reason = "Not enough storage for this export.";
  $("export").disabled = reason !== "";
  $("export-reason").textContent = reason;
}

$("estimate").addEventListener("click", estimate);

$("export").addEventListener("click", async () => {
  $("export").disabled = true;
  try {
    const task = await MapDepot.call("POST", "/export-tasks", requestBody());
    status(`Task ${task.id} is ${task.status}.`);
    await loadTasks();
  } catch (error) {
    status(error.message);
    renderSelections(faultIndex(error.message));
  }
  updateExportButton();
});

// MARK: Tasks

const actions = {
  PENDING: ["pause", "abort"], IN_PROGRESS: ["pause", "abort"], PAUSED: ["resume", "abort"],
  COMPLETED: ["archive"], FAILED: ["archive"], ABORTED: ["archive"], EXPIRED: ["archive"], ARCHIVED: [],
};
const label = { pause: "Pause", resume: "Resume", abort: "Abort", archive: "Archive" };

async function loadTasks() {
  let tasks;
  try { tasks = await MapDepot.call("GET", "/export-tasks?limit=50"); } catch (error) { status(error.message); return; }
  const body = $("tasks").querySelector("tbody");
  body.replaceChildren(...tasks.map(taskRow));
  for (const task of tasks) if (!["COMPLETED", "FAILED", "ABORTED", "EXPIRED", "ARCHIVED"].includes(task.status)) follow(task.id);
}

function taskRow(task) {
  const row = MapDepot.element("tr", { id: `task-${task.id}` });
  fillRow(row, task);
  return row;
}

function fillRow(row, task) {
  const progress = MapDepot.element("progress", { max: 100, value: task.progress, id: `progress-${task.id}`, "aria-label": `Task ${task.id} progress` });
  const eta = task.status === "IN_PROGRESS" && task.estimatedTime ? ` · ${MapDepot.formatSeconds(task.estimatedTime)} left` : "";
  const files = MapDepot.element("td", {}, ...(task.artifacts || []).map((artifact) =>
    MapDepot.element("div", {}, MapDepot.element("a", { href: artifact.url, download: artifact.name, class: "download", title: artifact.name }, `Download ${artifact.type}`),
      ` ${MapDepot.formatBytes(artifact.size)}`, MapDepot.element("code", { title: "sha256" }, ` ${artifact.sha256.slice(0, 12)}…`))));
  const buttons = MapDepot.element("td", {}, ...(actions[task.status] || []).map((action) =>
    MapDepot.element("button", { type: "button", "data-action": action, onclick: () => control(task.id, action) }, label[action])),
    MapDepot.element("button", { type: "button", class: "show", onclick: () => showTask(task) }, "Show on map"));
  row.replaceChildren(
    MapDepot.element("td", {}, String(task.id)),
    MapDepot.element("td", { class: "status" }, task.status, task.errorReason && ["FAILED", "ABORTED"].includes(task.status) ? MapDepot.element("div", { class: "reason" }, task.errorReason) : ""),
    MapDepot.element("td", {}, progress, ` ${task.progress} %${eta}`),
    MapDepot.element("td", {}, task.expiredAt ? new Date(task.expiredAt).toLocaleString() : "—"),
    files, buttons);
}

/// Live progress by Server-Sent Events, one stream per unfinished task.
function follow(id) {
  if (state.streams.has(id)) return;
  const source = new EventSource(MapDepot.withToken(`/export-tasks/${id}/events`));
  state.streams.set(id, source);
  source.addEventListener("task", (event) => {
    const task = JSON.parse(event.data);
    const row = $(`task-${id}`);
    if (row) fillRow(row, task);
    if (["COMPLETED", "FAILED", "ABORTED", "EXPIRED", "ARCHIVED"].includes(task.status)) { source.close(); state.streams.delete(id); }
  });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) state.streams.delete(id); };
}

async function control(id, action) {
  try {
    const task = await MapDepot.call("POST", `/export-tasks/${id}/${action}`);
    const row = $(`task-${id}`);
    if (row) fillRow(row, task);
    if (action === "archive") row?.remove();
    if (action === "resume") follow(id);
  } catch (error) { status(error.message); }
}

/// A task's ROI (dashed) and, once it completed, the footprint it exported (ROI ∩ product, from its metadata file).
async function showTask(task) {
  if (state.taskLayer) state.taskLayer.remove();
  const roi = polygonsOf(task.ROI);
  state.taskLayer = L.featureGroup(roi.map((g) => L.polygon(MapView.latLngs(g), { color: "#1e8449", weight: 2, dashArray: "6 4", fillOpacity: 0.05 }))).addTo(map);
  if (roi.length) map.fitBounds(state.taskLayer.getBounds());
  const metadata = (task.artifacts || []).find((a) => a.type === "METADATA");
  if (!metadata) return;
  try {
    // The same link on this page's origin (the public URL may name the host differently, and the policy allows
    // calls to this origin only).
    const link = new URL(metadata.url);
    const response = await fetch(link.pathname + link.search);
    if (!response.ok) throw new Error("HTTP " + response.status);
    const footprint = (await response.json()).footprint;
    for (const geometry of polygonsOf(footprint)) {
      state.taskLayer.addLayer(L.polygon(MapView.latLngs(geometry), { color: "#1e8449", weight: 3, fillOpacity: 0.25, className: "exported-footprint" }));
    }
  } catch (error) { status(`The exported footprint of task ${task.id} could not be read: ${error.message}`); }
}

// MARK: Country outlines

/// The polygons of the newest snapshot of the first layer that has them (the demo's Natural Earth countries), as thin
/// outlines: a click offers the country as a selection. Only for tokens that may read replicas.
async function loadOutlines() {
  if (!MapDepot.may("replication:read")) return;
  try {
    const layer = (await MapDepot.call("GET", "/layers")).find((l) => l.geometryTypes.includes("polygon"));
    if (!layer) return;
    const snapshots = await MapDepot.call("GET", `/replica?layer_id=${layer.layerId}&geometry_type=polygon&replica_type=snapshot`);
    const latest = snapshots[snapshots.length - 1];
    if (!latest) return;
    const outlines = L.featureGroup();
    for (const feature of (await Zip.replica(latest)).features) {
      const name = (feature.properties && (feature.properties.name || feature.properties.NAME)) || feature.id;
      const outline = L.geoJSON(feature, { style: { color: "#f4f6f7", weight: 1, opacity: 0.7, fillOpacity: 0, className: "country" } });
      outline.bindPopup(() => MapDepot.element("div", {}, MapDepot.element("strong", {}, name), " ",
        MapDepot.element("button", { type: "button", class: "use-country", onclick: () => { addSelection(feature.geometry); map.closePopup(); } }, `Export ${name}`)));
      outlines.addLayer(outline);
    }
    outlines.addTo(map);
  } catch (error) {
    status("Country outlines could not be loaded: " + error.message);
  }
}

loadRecords().then(loadTasks).then(loadOutlines);
