"""The asset graph against its committed snapshot, so a change to it shows in review as a diff of one file.

``tests/asset_graph.json`` lists every asset with its group, kinds, upstream assets and checks (whether each
blocks what follows or only warns). After an intended change, refresh it with ``make asset-graph`` and commit the diff.
"""

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def asset_graph() -> dict:
    from pipelines.definitions import defs

    graph = defs().resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": ", ".join(sorted(node.kinds)),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": {
                check.name: "blocking" if graph.get(check).blocking else "warns"
                for check in sorted(node.check_keys, key=lambda c: c.name)
            },
        }
    return assets


def test_the_asset_graph_matches_its_snapshot():
    current = asset_graph()
    if os.environ.get("UPDATE_ASSET_GRAPH") == "1":
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    changed = sorted(key for key in current.keys() | committed.keys() if current.get(key) != committed.get(key))
    assert not changed, f"assets added, removed or changed (refresh with `make asset-graph` if intended): {changed}"
