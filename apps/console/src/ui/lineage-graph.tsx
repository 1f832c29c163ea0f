import { href, onLinkClick } from "../lib/router.js";

/**
 * A lineage drawn as plain SVG: nodes in columns by depth (a node sits one column right of its
 * deepest parent), edges as curves with arrowheads. No graph library: lineages here are a
 * handful of nodes, and a layered layout is a dozen lines. Nodes with a page are links.
 */
export interface LineageNode {
  readonly id: string;
  readonly kind: "dataset" | "base" | "task" | "version" | "compression" | "evaluation" | "import" | "service";
  readonly label: string;
  readonly sub: string;
  /** App path of the node's page, if it has one. */
  readonly to?: string;
  /** The node the page is about (drawn emphasised). */
  readonly current?: boolean;
}

export interface LineageEdge {
  readonly from: string;
  readonly to: string;
  /** A step drawn on the edge rather than as a node (a compression), with its page. */
  readonly label?: string;
  readonly link?: string;
}

// Five columns (dataset → task → version → compressed version → evaluation) fit a 1280 px window.
const NODE_W = 160;
const NODE_H = 50;
const COL_GAP = 76;
const ROW_GAP = 14;
const PAD = 8;
const DIP = 40;

const KIND_LABEL: Readonly<Record<LineageNode["kind"], string>> = {
  dataset: "dataset", base: "base model", task: "fine-tuning task", version: "model version",
  compression: "compression", evaluation: "evaluation", import: "import", service: "service",
};

export function LineageGraph(props: { nodes: readonly LineageNode[]; edges: readonly LineageEdge[] }) {
  const { nodes, edges } = props;
  const depth = new Map<string, number>();
  const parents = new Map<string, string[]>();
  for (const e of edges) parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle cannot happen in a lineage; never loop on bad data
    seen.add(id);
    const d = Math.max(-1, ...(parents.get(id) ?? []).map((p) => depthOf(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  const columns: LineageNode[][] = [];
  for (const node of nodes) (columns[depthOf(node.id, new Set())] ??= []).push(node);
  const position = new Map<string, { x: number; y: number }>();
  const rows = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  // An edge that skips a column (the tuned version → an evaluation that also took its int8
  // version) dips under the nodes in between instead of running behind them.
  const skips = edges.some((e) => Math.abs((depth.get(e.to) ?? 0) - (depth.get(e.from) ?? 0)) > 1);
  const nodesHeight = rows * NODE_H + (rows - 1) * ROW_GAP;
  const height = PAD * 2 + nodesHeight + (skips ? DIP : 0);
  columns.forEach((column, c) => {
    const columnHeight = column.length * NODE_H + (column.length - 1) * ROW_GAP;
    const top = PAD + (nodesHeight - columnHeight) / 2;
    column.forEach((node, r) => position.set(node.id, { x: PAD + c * (NODE_W + COL_GAP), y: top + r * (NODE_H + ROW_GAP) }));
  });
  const width = PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP;

  return (
    <div className="lineage" data-testid="lineage">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="group" aria-label={`Lineage: ${nodes.map((n) => `${KIND_LABEL[n.kind]} ${n.label}`).join(", ")}`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f" />
          </marker>
        </defs>
        {edges.map((e) => {
          const a = position.get(e.from);
          const b = position.get(e.to);
          if (a === undefined || b === undefined) return null;
          const x1 = a.x + NODE_W;
          const y1 = a.y + NODE_H / 2;
          const x2 = b.x - 2;
          const y2 = b.y + NODE_H / 2;
          const mid = (x1 + x2) / 2;
          const skip = (depth.get(e.to) ?? 0) - (depth.get(e.from) ?? 0) > 1;
          const d = skip
            ? `M ${x1} ${y1} C ${x1 + COL_GAP} ${y1 + NODE_H / 2 + DIP * 1.2}, ${x2 - COL_GAP} ${y2 + NODE_H / 2 + DIP * 1.2}, ${x2} ${y2}`
            : `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`;
          const path = <path d={d} fill="none" stroke="#8c959f" strokeWidth="1.5" markerEnd="url(#arrow)" />;
          if (e.label === undefined) return <g key={`${e.from}>${e.to}`}>{path}</g>;
          const text = <text x={mid} y={(y1 + y2) / 2 - 6} textAnchor="middle" className="edge-label">{clip(e.label, 11)}<title>{e.label}</title></text>;
          const link = e.link;
          return (
            <g key={`${e.from}>${e.to}`}>
              {path}
              {link === undefined ? text : <a href={href(link)} onClick={onLinkClick(link)} aria-label={`compression ${e.label}`}>{text}</a>}
            </g>
          );
        })}
        {nodes.map((node) => {
          const p = position.get(node.id)!;
          const box = (
            <g className={`node node-${node.kind}${node.current ? " node-current" : ""}`} transform={`translate(${p.x} ${p.y})`}>
              <rect width={NODE_W} height={NODE_H} rx="6" />
              <text x="10" y="19" className="node-kind">{KIND_LABEL[node.kind]}</text>
              <text x="10" y="37" className="node-label">{clip(node.label, 21)}</text>
              <title>{`${KIND_LABEL[node.kind]}: ${node.label}${node.sub === "" ? "" : ` (${node.sub})`}`}</title>
            </g>
          );
          if (node.to === undefined || node.current) return <g key={node.id}>{box}</g>;
          const to = node.to;
          return (
            <a key={node.id} href={href(to)} onClick={onLinkClick(to)} aria-label={`${KIND_LABEL[node.kind]} ${node.label}`}>
              {box}
            </a>
          );
        })}
      </svg>
    </div>
  );
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
