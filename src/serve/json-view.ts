/**
 * Pretty, collapsible JSON: every object and array is a `<details>` (open
 * down to a depth), every member carries its JSON Pointer so a diff can
 * paint what changed. Strings pass through `visibleText` and the escaping
 * template, so data holding HTML or direction overrides shows as text.
 */
import { html, visibleText, type Html } from './html.js';

/** CSS class for the value at a JSON Pointer, or undefined for none. */
export type PathClass = (pointer: string) => string | undefined;

export interface JsonViewOptions {
  /** Objects and arrays nested deeper than this start collapsed. */
  openDepth?: number;
  highlight?: PathClass;
}

export function renderJson(value: unknown, options: JsonViewOptions = {}): Html {
  return html`<div class="json">${renderValue(value, '', 0, { openDepth: options.openDepth ?? 3, highlight: options.highlight ?? (() => undefined) })}</div>`;
}

interface Walk {
  openDepth: number;
  highlight: PathClass;
}

function renderValue(value: unknown, pointer: string, depth: number, walk: Walk): Html {
  const painted = walk.highlight(pointer);
  const inner = Array.isArray(value)
    ? renderContainer(value.map((item, i) => [String(i), item] as const), '[', ']', pointer, depth, walk, false)
    : value !== null && typeof value === 'object'
      ? renderContainer(Object.entries(value as Record<string, unknown>), '{', '}', pointer, depth, walk, true)
      : renderScalar(value);
  return painted === undefined ? inner : html`<span class="${painted}" data-pointer="${pointer}">${inner}</span>`;
}

function renderContainer(
  members: ReadonlyArray<readonly [string, unknown]>,
  open: string,
  close: string,
  pointer: string,
  depth: number,
  walk: Walk,
  named: boolean,
): Html {
  if (members.length === 0) return html`<span>${open}${close}</span>`;
  const rows = members.map(([key, item], i) => {
    const child = `${pointer}/${escapePointer(key)}`;
    const label = named ? html`<span class="prop">${visibleText(JSON.stringify(key))}</span>: ` : '';
    const comma = i < members.length - 1 ? ',' : '';
    return html`<span class="member">${label}${renderValue(item, child, depth + 1, walk)}${comma}</span>`;
  });
  const count = `${members.length} ${named ? (members.length === 1 ? 'member' : 'members') : members.length === 1 ? 'item' : 'items'}`;
  return html`<details data-path="${pointer}" ${depth < walk.openDepth ? html`open` : ''}><summary>${open} <span class="muted">${count}</span></summary>${rows}</details>${close}`;
}

function renderScalar(value: unknown): Html {
  if (typeof value === 'string') return html`<span class="str">${visibleText(JSON.stringify(value))}</span>`;
  if (typeof value === 'number') return html`<span class="num">${String(value)}</span>`;
  return html`<span class="lit">${JSON.stringify(value) ?? 'undefined'}</span>`;
}

/** RFC 6901: `~` as `~0`, `/` as `~1`. */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
