// Reads the entries of a replica zip in the browser (issue #11): the central directory, then each entry stored or
// deflated (the browser's own DecompressionStream inflates). Written for MapDepot's zips; no ZIP64 (a replica zip is
// capped well below 4 GiB).
"use strict";

const Zip = {
  async entries(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let end = -1;
    for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i -= 1) {
      if (view.getUint32(i, true) === 0x06054b50) { end = i; break; }
    }
    if (end < 0) throw new Error("not a zip file (no end of central directory)");
    const count = view.getUint16(end + 10, true);
    let offset = view.getUint32(end + 16, true);
    const decoder = new TextDecoder();
    const entries = [];
    for (let n = 0; n < count; n += 1) {
      if (view.getUint32(offset, true) !== 0x02014b50) throw new Error("damaged central directory");
      const method = view.getUint16(offset + 10, true);
      const compressedSize = view.getUint32(offset + 20, true);
      const nameLength = view.getUint16(offset + 28, true);
      const extraLength = view.getUint16(offset + 30, true);
      const commentLength = view.getUint16(offset + 32, true);
      const local = view.getUint32(offset + 42, true);
      const name = decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      entries.push({ name, method, data: bytes.subarray(start, start + compressedSize) });
      offset += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  },

  async text(entry) {
    if (entry.method === 0) return new TextDecoder().decode(entry.data);
    if (entry.method !== 8) throw new Error(`${entry.name}: compression method ${entry.method} is not supported`);
    const stream = new Blob([entry.data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return await new Response(stream).text();
  },

  /// A replica's features and deleted ids, from every zip of it (downloaded with the token).
  async replica(replica) {
    const contents = { features: [], deleted: [] };
    for (const file of replica.files) {
      for (const entry of await this.entries(await MapDepot.bytes(file.url))) {
        const json = JSON.parse(await this.text(entry));
        if (entry.name.startsWith("deleted_")) contents.deleted.push(...json);
        else contents.features.push(...(json.features || []));
      }
    }
    return contents;
  },
};
