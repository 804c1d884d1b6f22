/**
 * What one capability shows in `cost-guard plan`: a table of what it would do (each row with its dollars and its
 * reason), what it left alone counted by reason (the IDs with `--details`), its notes, and a subtotal that is the sum
 * of the dollars in its rows, with words that say what the figure means. Rendered for a terminal or as markdown.
 */
import { formatUsd } from '../../core/money';
import type { RunSummary } from '../../core/run';
import {
  type Column,
  markdownText,
  paragraph,
  renderMarkdownTable,
  renderTable,
  type TableRow,
  terminalText,
} from './table';

/**
 * Things counted by one reason ("opted out": 3), with what they are (instance IDs with their names, buckets) when the
 * run recorded them.
 */
export interface CountGroup {
  readonly label: string;
  readonly count: number;
  readonly items?: readonly string[];
}

/** A titled list of counted groups: "Not acted on", "Conflicts", "Bucket notices". */
export interface Counted {
  readonly title: string;
  readonly groups: readonly CountGroup[];
}

export interface SectionView {
  /** Lines before the table: how the section was evaluated (e.g. "assuming Slack accepts the warning"). */
  readonly lead: readonly string[];
  readonly columns: readonly Column[];
  readonly rows: readonly TableRow[];
  /** The header of the detail (reason) column in markdown. */
  readonly detailHeader: string;
  /** What the table says when it has no row. */
  readonly empty: string;
  readonly counted: readonly Counted[];
  readonly notes: readonly string[];
  /** The sum of the rows' dollars, and what it means ("would be saved if acted on"). */
  readonly subtotal: { readonly monthlyUsd: number; readonly text: string };
}

export interface RenderOptions {
  readonly format: 'table' | 'markdown';
  /** Terminal width for tables. */
  readonly width: number;
  /** List the IDs of what was counted (`--details`). */
  readonly details: boolean;
}

/** A count of groups in one line: `5 opted out, 2 in an Auto Scaling group`. */
function countLine(groups: readonly CountGroup[]): string {
  return groups.map((g) => `${g.count} ${g.label}`).join(', ');
}

/** The section's body (table, counts, notes, subtotal) as lines, without its title. */
export function renderSection(view: SectionView, o: RenderOptions): string[] {
  const md = o.format === 'markdown';
  const text = md ? markdownText : terminalText;
  const out: string[] = [];
  for (const l of view.lead) out.push(md ? `${text(l)}\n` : paragraph(l, o.width));
  if (view.rows.length === 0) out.push(md ? `${text(view.empty)}\n` : paragraph(view.empty, o.width));
  else if (md) out.push(renderMarkdownTable(view.columns, view.rows, view.detailHeader));
  else out.push(renderTable(view.columns, view.rows, o.width));
  for (const c of view.counted) {
    const groups = c.groups.filter((g) => g.count > 0);
    if (groups.length === 0) continue;
    const total = groups.reduce((n, g) => n + g.count, 0);
    const listed = groups.filter((g) => (g.items?.length ?? 0) > 0);
    const hint = !o.details && listed.length > 0 ? ' (--details lists them)' : '';
    const list = (g: CountGroup) => `${text(g.label)}: ${(g.items ?? []).map(text).join(', ')}`;
    if (md) {
      out.push(`**${text(c.title)}** (${total}): ${text(countLine(groups))}${hint}\n`);
      if (o.details && listed.length > 0) out.push(`${listed.map((g) => `- ${list(g)}`).join('\n')}\n`);
    } else {
      out.push(paragraph(`${c.title} (${total}): ${countLine(groups)}${hint}`, o.width, '', '  '));
      if (o.details) for (const g of listed) out.push(paragraph(list(g), o.width, '  ', '    '));
    }
  }
  if (view.notes.length > 0) {
    if (md) out.push(`${view.notes.map((n) => `- ${text(n)}`).join('\n')}\n`);
    else for (const n of view.notes) out.push(paragraph(`note: ${n}`, o.width, '  ', '    '));
  }
  out.push(
    md ? `_Subtotal: ${text(view.subtotal.text)}_` : paragraph(`Subtotal: ${view.subtotal.text}`, o.width, '', '  '),
  );
  return out;
}

/** Adds an item to the group of its label (groups keep the order labels first appear in). */
export function addTo(groups: Map<string, string[]>, label: string, item: string): void {
  const list = groups.get(label);
  if (list) list.push(item);
  else groups.set(label, [item]);
}

export const groupsOf = (m: Map<string, string[]>): CountGroup[] =>
  [...m.entries()].map(([label, items]) => ({ label, count: items.length, items }));

/** An instance as a person reads it: `i-0abc (notebook-alice)`. */
export const instanceLabel = (id: string, name?: string): string => (name ? `${id} (${name})` : id);

/** The view of a capability the CLI has no special view for: its action records. */
export function actionsView(summary: RunSummary): SectionView {
  const rows: TableRow[] = summary.actions.map((a) => ({
    cells: [
      a.kind,
      a.region ? `${a.target} (${a.region})` : a.target,
      a.monthlySavingsUsd !== undefined ? `${formatUsd(a.monthlySavingsUsd)}/mo` : '—',
      a.status,
    ],
    detail: a.reason,
  }));
  return {
    lead: [],
    columns: [{ header: 'ACTION' }, { header: 'TARGET' }, { header: 'SAVINGS', align: 'right' }, { header: 'STATUS' }],
    rows,
    detailHeader: 'reason',
    empty: 'No action would be taken.',
    counted: [],
    notes: summary.notes,
    subtotal: {
      monthlyUsd: summary.monthlySavingsUsd,
      text: `${formatUsd(summary.monthlySavingsUsd)}/month from the actions above`,
    },
  };
}
