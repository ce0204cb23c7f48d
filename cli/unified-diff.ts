// Moved to model/ so the web console prints the same diffs as `weft diff`;
// kept here so the CLI's imports keep working.
export { diffLines, unifiedDiff } from '../model/unified-diff.js';
