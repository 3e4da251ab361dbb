"""Identity flows: stitching events to persons, merges and unlinks, the identity rules
in force, and explanations of links."""
