"""Reads an exported 3D Tiles subset back with py3dtiles (issue #13): every tile of every tileset, every content file
decoded. Prints one JSON line: {"ok": true, "tiles": N, "points": P} or {"ok": false, "failed": "..."}.

Usage: py3dtiles_read.py <tileset.json>
"""
import json
import sys
from pathlib import Path


def main():
    from py3dtiles.tileset.tileset import TileSet
    from py3dtiles.tileset.content import read_binary_tile_content

    root = Path(sys.argv[1])
    tileset = TileSet.from_file(root)
    tiles = 0
    points = 0
    stack = [(tileset.root_tile, root.parent)]
    while stack:
        tile, base = stack.pop()
        tiles += 1
        uri = tile.content_uri
        if uri is not None:
            path = base / uri
            if path.suffix == ".json":
                external = TileSet.from_file(path)
                stack.append((external.root_tile, path.parent))
            else:
                content = read_binary_tile_content(path)
                points += int(getattr(content.body.feature_table.header, "points_length", 0) or 0)
        stack.extend((child, base) for child in tile.children)
    print(json.dumps({"ok": True, "tiles": tiles, "points": points}))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the report names what failed
        print(json.dumps({"ok": False, "failed": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
