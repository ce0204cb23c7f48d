// Moved to model/ so the web console can place errors the same way; kept
// here so the CLI's imports keep working.
export { offsetOf, positionOf, type Position } from '../model/yaml-position.js';
