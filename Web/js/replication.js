// The replication page (issue #11): a layer's replica chain per geometry type; opening a replica draws its features
// (in pages, so a large snapshot does not freeze the page), a delta's coloured by kind with its `diff` in a popup.
"use strict";

MapDepot.requireToken();

const { $, status } = MapDepot.page();
const map = MapView.create("map");
let drawn = null;
let layers = [];

async function loadLayers() {
  try { layers = await MapDepot.call("GET", "/layers"); } catch (error) { status(error.message); return; }
  $("layer").replaceChildren(...layers.map((l) => MapDepot.element("option", { value: l.layerId }, `${l.layerId} · ${l.layerName}`)));
  if (layers.length === 0) status("No layers yet.");
  selectLayer();
}

function selectLayer() {
  const layer = layers.find((l) => String(l.layerId) === $("layer").value);
  $("geometry").replaceChildren(...(layer ? layer.geometryTypes : []).map((t) => MapDepot.element("option", { value: t }, t)));
  loadChain();
}

$("layer").addEventListener("change", selectLayer);
$("geometry").addEventListener("change", loadChain);

async function loadChain() {
  const layerId = $("layer").value, type = $("geometry").value;
  $("chain").replaceChildren();
  if (!layerId || !type) return;
  try {
    const query = (replicaType) => `/replica?layer_id=${layerId}&geometry_type=${type}&replica_type=${replicaType}`;
    const [snapshots, deltas] = await Promise.all([MapDepot.call("GET", query("snapshot")), MapDepot.call("GET", query("delta"))]);
    const chain = [...snapshots, ...deltas].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.sequenceNumber - b.sequenceNumber);
    $("chain").replaceChildren(...chain.map((replica) => {
      const size = replica.files.reduce((n, f) => n + f.size, 0);
      const features = replica.files.reduce((n, f) => n + f.features, 0);
      const deletions = replica.files.reduce((n, f) => n + f.deletions, 0);
      return MapDepot.element("li", {},
        MapDepot.element("button", { type: "button", "data-sequence": replica.sequenceNumber, onclick: () => open(replica) }, `Open ${replica.replicaType} ${replica.sequenceNumber}`),
        ` ${new Date(replica.timestamp).toLocaleString()} · ${features} features${replica.replicaType === "delta" ? `, ${deletions} deleted` : ""} · `
          + `${replica.files.length} file(s), ${MapDepot.formatBytes(size)} `,
        ...replica.files.map((f) => MapDepot.element("code", { title: f.url }, `sha256 ${f.sha256.slice(0, 12)}… `)));
    }));
    if (chain.length === 0) status("No replicas of this geometry type yet.");
  } catch (error) { status(error.message); }
}

/// A delta feature's kind: a created feature differs from nothing, so its geometry and every property changed.
/// (The contract's `diff` has no create/modify marker; a modification of the geometry and every property reads as a
/// creation.)
function kindOf(feature) {
  const diff = feature.diff;
  if (!diff) return "snapshot";
  const keys = Object.keys(feature.properties || {});
  return diff.isGeometryChanged && keys.every((k) => diff.changedTags.includes(k)) ? "created" : "modified";
}

const colours = { created: "#1e8449", modified: "#b9770e", snapshot: "#1f618d" };

async function open(replica) {
  if (drawn) drawn.remove();
  drawn = L.featureGroup().addTo(map);
  $("deleted").replaceChildren();
  $("opened").textContent = `Loading ${replica.replicaType} ${replica.sequenceNumber}…`;
  let features, deleted;
  try {
    ({ features, deleted } = await Zip.replica(replica));
  } catch (error) { $("opened").textContent = error.message; return; }
  const counts = { created: 0, modified: 0, snapshot: 0 };
  // Pages of 1,000 features, one per frame.
  for (let start = 0; start < features.length; start += 1000) {
    for (const feature of features.slice(start, start + 1000)) {
      const kind = kindOf(feature);
      counts[kind] += 1;
      const layer = L.geoJSON(feature, {
        style: { color: colours[kind], weight: 2 },
        pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 5, color: colours[kind], className: `feature-${kind}` }),
      });
      layer.eachLayer((l) => l.getElement?.()?.classList.add(`feature-${kind}`));
      layer.bindPopup(() => popup(feature, kind));
      layer.addTo(drawn);
    }
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  $("deleted").replaceChildren(...deleted.slice(0, 200).map((id) => MapDepot.element("li", { class: "deleted-id" }, `deleted ${id}`)));
  $("opened").textContent = replica.replicaType === "delta"
    ? `Delta ${replica.sequenceNumber}: ${counts.created} created, ${counts.modified} modified, ${deleted.length} deleted.`
    : `Snapshot ${replica.sequenceNumber}: ${counts.snapshot} features.`;
  $("opened").dataset.features = features.length;
  if (features.length && drawn.getBounds().isValid()) map.fitBounds(drawn.getBounds(), { maxZoom: 6, padding: [60, 60] });
}

function popup(feature, kind) {
  const body = MapDepot.element("div", { class: "popup" }, MapDepot.element("strong", {}, `${feature.id} (${kind})`));
  const properties = MapDepot.element("pre", {}, JSON.stringify(feature.properties, null, 1));
  body.append(properties);
  if (feature.diff) body.append(MapDepot.element("pre", { class: "diff" }, "diff " + JSON.stringify(feature.diff)));
  return body;
}

loadLayers();
