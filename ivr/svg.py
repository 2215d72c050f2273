"""Draw a tree as an SVG diagram (``ipcc ivr show TREE``), without graphviz.

Layout, in the spirit of Sugiyama's layered drawing:

1. a depth-first walk from the entry marks the edges that close a loop ("repeat",
   "back to main menu") as back edges; without them the graph is acyclic;
2. each node's layer is the longest path to it from the entry over the acyclic graph, so
   every forward edge points downwards;
3. within a layer, nodes are ordered by a few sweeps of the barycenter heuristic
   (mean position of their neighbours in the layer above, then below) to cut crossings;
4. boxes are sized from their text; rows are centred.

Forward edges are drawn as curves from the bottom of one box to the top of the next, back
and same-row edges as arcs on the right-hand side. Every edge carries its label (digit,
condition, ok/error, next) on a white patch; the full text is in a ``<title>`` tooltip.
Nodes that cannot be reached from the entry are drawn in extra rows at the bottom.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .nodes import Tree

COLORS = {
    "menu": "#dbeafe", "language": "#e0e7ff", "say": "#f1f5f9", "collect": "#fef3c7",
    "lookup": "#ede9fe", "branch": "#fce7f3", "queue": "#dcfce7", "callback": "#ccfbf1",
    "message": "#ffedd5", "transfer": "#fee2e2", "hangup": "#e5e7eb",
}
BOX_H = 56
ROW_GAP = 70
COL_GAP = 36
MARGIN = 40
TITLE_H = 44
MAX_LABEL = 36


def _text_width(text: str, size: float) -> float:
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return (len(text) - wide) * size * 0.6 + wide * size * 1.05


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Box:
    id: str
    kind: str
    label: str
    layer: int
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = BOX_H


def _layers(tree: Tree) -> tuple[dict[str, int], set[tuple[str, str, int]], list[str]]:
    """Layer per node, the set of back edges (src, dst, index), and DFS order."""
    adj = {nid: [t for _, t in node.edges() if t] for nid, node in tree.nodes.items()}
    back: set[tuple[str, str, int]] = set()
    order: list[str] = []
    state: dict[str, int] = {}

    def dfs(root: str) -> None:
        stack = [(root, 0)]
        state[root] = 1
        order.append(root)
        while stack:
            nid, i = stack.pop()
            if i < len(adj[nid]):
                stack.append((nid, i + 1))
                t = adj[nid][i]
                if state.get(t) == 1:
                    back.add((nid, t, i))
                elif t not in state:
                    state[t] = 1
                    order.append(t)
                    stack.append((t, 0))
            else:
                state[nid] = 2

    dfs(tree.entry)
    reached = set(order)
    for nid in tree.nodes:
        if nid not in state:
            dfs(nid)

    # longest path over forward edges, in topological order (Kahn)
    indeg = {n: 0 for n in tree.nodes}
    fwd: dict[str, list[str]] = {n: [] for n in tree.nodes}
    for src, targets in adj.items():
        for i, t in enumerate(targets):
            if (src, t, i) not in back and t != src:
                fwd[src].append(t)
                indeg[t] += 1
    layer = {n: 0 for n in tree.nodes}
    ready = [n for n in order if indeg[n] == 0]
    while ready:
        n = ready.pop(0)
        for t in fwd[n]:
            layer[t] = max(layer[t], layer[n] + 1)
            indeg[t] -= 1
            if indeg[t] == 0:
                ready.append(t)
    # unreachable nodes go below everything reachable
    if len(reached) < len(tree.nodes):
        base = max(layer[n] for n in reached) + 1
        low = min(layer[n] for n in tree.nodes if n not in reached)
        for n in tree.nodes:
            if n not in reached:
                layer[n] = base + layer[n] - low
    return layer, back, order


def _chains(tree: Tree, layer: dict[str, int], back: set[tuple[str, str, int]]
            ) -> tuple[dict[str, list[str]], dict[tuple[str, int], list[str]], dict[str, int]]:
    """Split every forward edge that spans several layers with dummy points, one per
    layer crossed, so long edges take part in ordering and get routed around boxes.

    Returns (adjacency over real + dummy ids, dummy chain per edge, layer of dummies)."""
    succ: dict[str, list[str]] = {n: [] for n in tree.nodes}
    chains: dict[tuple[str, int], list[str]] = {}
    dummy_layer: dict[str, int] = {}
    for nid, node in tree.nodes.items():
        for i, (_, t) in enumerate(node.edges()):
            if not t or (nid, t, i) in back or layer[t] <= layer[nid]:
                continue
            prev = nid
            chain = []
            for lyr in range(layer[nid] + 1, layer[t]):
                d = f"\0{nid}\0{i}\0{lyr}"
                dummy_layer[d] = lyr
                succ[d] = []
                succ[prev].append(d)
                chain.append(d)
                prev = d
            succ[prev].append(t)
            chains[(nid, i)] = chain
    return succ, chains, dummy_layer


def _order_rows(order: list[str], layer: dict[str, int], succ: dict[str, list[str]]
                ) -> list[list[str]]:
    rows: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    seen: set[str] = set()

    def place(n: str) -> None:   # depth-first order keeps subtrees together initially
        stack = [n]
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            rows[layer[m]].append(m)
            stack.extend(reversed(succ[m]))

    for nid in order:
        place(nid)
    pred: dict[str, list[str]] = {n: [] for n in succ}
    for n, ts in succ.items():
        for t in ts:
            if layer[t] == layer[n] + 1:
                pred[t].append(n)

    def sweep(neigh: dict[str, list[str]], indices: range) -> None:
        for r in indices:
            pos = {n: i for row in rows for i, n in enumerate(row)}

            def key(n: str, pos: dict[str, int] = pos) -> float:
                ns = neigh[n]
                return sum(pos[m] for m in ns) / len(ns) if ns else pos[n]
            rows[r].sort(key=key)

    down = {n: pred[n] for n in succ}
    up = {n: [t for t in succ[n] if layer[t] == layer[n] + 1] for n in succ}
    for _ in range(6):
        sweep(down, range(1, len(rows)))
        sweep(up, range(len(rows) - 2, -1, -1))
    return rows


def _position(rows: list[list[str]], width: dict[str, float], succ: dict[str, list[str]],
              layer: dict[str, int]) -> dict[str, float]:
    """Left x of every box: rows start centred, then each node is pulled towards the
    mean centre of its neighbours in the row above (down sweep) or below (up sweep),
    keeping the order and the gaps; the row then shifts by the mean leftover pull."""
    pred: dict[str, list[str]] = {n: [] for n in succ}
    for n, ts in succ.items():
        for t in ts:
            if layer[t] == layer[n] + 1:
                pred[t].append(n)
    up = {n: [t for t in succ[n] if layer[t] == layer[n] + 1] for n in succ}
    row_w = [sum(width[n] for n in row) + COL_GAP * (len(row) - 1) for row in rows]
    widest = max(row_w)
    x: dict[str, float] = {}
    for r, row in enumerate(rows):
        cur = (widest - row_w[r]) / 2
        for n in row:
            x[n] = cur
            cur += width[n] + COL_GAP

    def centre(n: str) -> float:
        return x[n] + width[n] / 2

    def pull(row: list[str], neigh: dict[str, list[str]]) -> None:
        want = [sum(centre(m) for m in neigh[n]) / len(neigh[n]) - width[n] / 2
                if neigh[n] else x[n] for n in row]
        placed: list[float] = []
        right = -1e9
        for n, w in zip(row, want):
            left = max(w, right)
            placed.append(left)
            right = left + width[n] + COL_GAP
        # shift back by the mean overshoot so pushes to the right do not pile up
        shift = sum(w - p for w, p in zip(want, placed)) / len(row)
        for n, p in zip(row, placed):
            x[n] = p + min(0.0, shift)

    for _ in range(4):
        for row in rows[1:]:
            pull(row, pred)
        for row in reversed(rows[:-1]):
            pull(row, up)
    low = min(x.values())
    return {n: v - low + MARGIN for n, v in x.items()}


def _smooth(points: list[tuple[float, float]]) -> str:
    """A path through the points: vertical-tangent cubic curves between them."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    px, py = x0, y0
    for x1, y1 in rest:
        dy = (y1 - py) / 2
        d.append(f"C{px:.1f},{py + dy:.1f} {x1:.1f},{y1 - dy:.1f} {x1:.1f},{y1:.1f}")
        px, py = x1, y1
    return " ".join(d)


def render_svg(tree: Tree) -> str:
    layer, back, order = _layers(tree)
    succ, chains, dummy_layer = _chains(tree, layer, back)
    all_layer = {**layer, **dummy_layer}
    rows = _order_rows(order, all_layer, succ)
    boxes: dict[str, _Box] = {}
    for nid, node in tree.nodes.items():
        box = _Box(nid, node.kind, node.label, layer[nid])
        box.w = max(120.0, _text_width(nid, 12) + 24, _text_width(node.label, 11) + 24,
                    _text_width(node.kind, 10) + 24)
        boxes[nid] = box
    width_of = {n: boxes[n].w if n in boxes else 14.0 for n in succ}
    xs = _position(rows, width_of, succ, all_layer)

    def row_y(lyr: int) -> float:
        return TITLE_H + MARGIN + lyr * (BOX_H + ROW_GAP)

    for nid, b in boxes.items():
        b.x, b.y = xs[nid], row_y(b.layer)
    width = max(xs[n] + width_of[n] for n in xs) + MARGIN + 90   # room for back-edge arcs
    height = TITLE_H + 2 * MARGIN + len(rows) * (BOX_H + ROW_GAP) - ROW_GAP

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
         f'viewBox="0 0 {width:.0f} {height:.0f}" '
         'font-family="DejaVu Sans, Arial, Noto Sans CJK SC, sans-serif">'),
        ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
         'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
         '<path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>'),
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        (f'<text x="{MARGIN}" y="{MARGIN - 8}" font-size="16" font-weight="bold">'
         f'{escape(tree.name)}</text>'),
        (f'<text x="{MARGIN}" y="{MARGIN + 12}" font-size="11" fill="#475569">'
         f'tenant {escape(tree.tenant)} · DNIS {escape(", ".join(tree.dnis) or "-")} · '
         f'languages {escape(", ".join(tree.languages))} · entry {escape(tree.entry)}</text>'),
    ]
    edge_parts: list[str] = []
    label_parts: list[str] = []
    for nid, node in tree.nodes.items():
        src = boxes[nid]
        all_edges = node.edges()

        def first_hop_x(i: int, nid: str = nid,
                        all_edges: list[tuple[str, str]] = all_edges) -> float:
            hops = chains[(nid, i)]
            target = all_edges[i][1]
            return xs[hops[0]] + width_of[hops[0]] / 2 if hops else \
                boxes[target].x + boxes[target].w / 2

        # forward edges leave the bottom left-to-right in the order of where they go
        down = sorted((i for i in range(len(all_edges)) if (nid, i) in chains), key=first_hop_x)
        slot = {i: k for k, i in enumerate(down)}
        for i, (label, target) in enumerate(all_edges):
            if not target:
                continue
            dst = boxes[target]
            k = slot.get(i, 0)
            if (nid, i) not in chains:
                # back or same-row edge: arc out of the right side, into the target's right
                x1, y1 = src.x + src.w, src.y + src.h / 2 - 6
                x2, y2 = dst.x + dst.w, dst.y + dst.h / 2 + 6
                bulge = 36 + 10 * abs(src.layer - dst.layer)
                cx = max(x1, x2) + bulge
                path = (f"M{x1:.1f},{y1:.1f} C{cx:.1f},{y1:.1f} {cx:.1f},{y2:.1f} "
                        f"{x2:.1f},{y2:.1f}")
                lx, ly = max(x1, x2) + bulge * 0.75, (y1 + y2) / 2
                dash = ' stroke-dasharray="5,3"'
            else:
                spread = (k + 1) / (len(down) + 1)
                pts = [(src.x + src.w * spread, src.y + src.h)]
                for d in chains[(nid, i)]:
                    cx, top = xs[d] + width_of[d] / 2, row_y(dummy_layer[d])
                    pts += [(cx, top - 4), (cx, top + BOX_H + 4)]
                pts.append((dst.x + dst.w / 2, dst.y))
                path = _smooth(pts)
                (x1, y1), (x2, y2) = pts[0], pts[1]
                t = 0.28 + 0.2 * (k % 2)       # stagger neighbouring labels
                lx, ly = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
                dash = ""
            edge_parts.append(
                f'<path class="edge" data-from="{escape(nid)}" data-to="{escape(target)}" '
                f'd="{path}" fill="none" stroke="#475569" stroke-width="1.3"{dash} '
                f'marker-end="url(#arrow)"><title>{escape(f"{nid} -> {target}: {label}")}'
                f"</title></path>")
            shown = _short(label)
            tw = _text_width(shown, 10) + 8
            label_parts.append(
                f'<g class="edge-label"><rect x="{lx - tw / 2:.1f}" y="{ly - 8:.1f}" '
                f'width="{tw:.1f}" height="15" rx="3" fill="#ffffff" fill-opacity="0.85"/>'
                f'<text x="{lx:.1f}" y="{ly + 3.5:.1f}" font-size="10" text-anchor="middle" '
                f'fill="#1e293b">{escape(shown)}</text><title>{escape(label)}</title></g>')
    node_parts = []
    for nid in order:
        b = boxes[nid]
        cx = b.x + b.w / 2
        entry = ' stroke-width="2.5"' if nid == tree.entry else ' stroke-width="1.2"'
        lines = [(f'<text x="{cx:.1f}" y="{b.y + 15:.1f}" font-size="10" '
                  f'text-anchor="middle" fill="#475569">{escape(b.kind)}</text>'),
                 (f'<text x="{cx:.1f}" y="{b.y + 32:.1f}" font-size="12" font-weight="bold" '
                  f'text-anchor="middle">{escape(nid)}</text>')]
        if b.label:
            lines.append(f'<text x="{cx:.1f}" y="{b.y + 48:.1f}" font-size="11" '
                         f'text-anchor="middle" fill="#334155">{escape(b.label)}</text>')
        node_parts.append(
            f'<g class="node" id="node-{escape(nid)}" data-kind="{escape(b.kind)}">'
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="8" '
            f'fill="{COLORS.get(b.kind, "#ffffff")}" stroke="#334155"{entry}/>'
            + "".join(lines) + "</g>")
    parts += edge_parts + node_parts + label_parts + ["</svg>"]
    return "\n".join(parts) + "\n"
