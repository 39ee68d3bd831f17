// Reading the start of a spreadsheet in the browser, and the automatic column
// mapping of gateway.md §7. Nothing here talks to the network.

// detectDelimiter picks ",", ";" or tab: the one found most often outside
// quotes on the first line (a comma when none is).
export function detectDelimiter(text) {
  const counts = { ",": 0, ";": 0, "\t": 0 };
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "\n" || ch === "\r")) break;
    else if (!quoted && ch in counts) counts[ch]++;
  }
  let best = ",";
  for (const d of [";", "\t"]) if (counts[d] > counts[best]) best = d;
  return best;
}

// parseCSV reads up to maxRows rows (the header included) of RFC 4180 text,
// without its BOM. A last line cut short by the end of text is dropped when
// more text may follow (partial).
export function parseCSV(text, maxRows, partial) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const delim = detectDelimiter(text);
  const rows = [];
  let row = [], cell = "", quoted = false, i = 0;
  const endRow = () => { row.push(cell); rows.push(row); row = []; cell = ""; };
  while (i < text.length && rows.length < maxRows) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) { row.push(cell); cell = ""; }
    else if (ch === "\r" || ch === "\n") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRow();
    } else cell += ch;
    i++;
  }
  if (!partial && rows.length < maxRows && i >= text.length && (cell !== "" || row.length > 0)) endRow();
  return { delimiter: delim, rows: rows.filter((r) => !(r.length === 1 && r[0] === "")) };
}

// norm is how a header is compared with a field name: case, spaces and "_"
// ignored.
export const norm = (s) => s.trim().toLowerCase().replace(/[\s_]+/g, "");

// isReportColumn: the crmgate_* columns of an error report, ignored on upload.
export const isReportColumn = (h) => h.trim().toLowerCase().startsWith("crmgate_");

// autoMapping gives each column the field its header names (a canonical
// field, or a custom field as "custom_fields.<name>"), or "" when none; a
// field claimed by an earlier column is not given twice.
export function autoMapping(header, fields, customFields) {
  const byNorm = new Map();
  for (const f of fields) byNorm.set(norm(f), f);
  for (const c of customFields) if (!byNorm.has(norm(c))) byNorm.set(norm(c), "custom_fields." + c);
  const taken = new Set();
  return header.map((h) => {
    if (!h || isReportColumn(h)) return "";
    const f = byNorm.get(norm(h));
    if (!f || taken.has(f)) return "";
    taken.add(f);
    return f;
  });
}

// isXLSX tells an XLSX upload by its name or content type.
export function isXLSX(file) {
  return /\.xlsx$/i.test(file.name) ||
    file.type === "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}
