// Defaults of optional spec fields that readers show when a field is unset.
// Kept apart from the schemas so that a table renderer needs no schema library.

/** A FirewallPolicy's priority when its spec gives none. */
export const DEFAULT_POLICY_PRIORITY = 1000;
/** A Firewall's action for traffic no rule decides, when its spec gives none. */
export const DEFAULT_FIREWALL_ACTION = 'deny';
