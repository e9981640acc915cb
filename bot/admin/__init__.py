"""Administration: role invites for an area, the roles of an area, revoking them, delivery health."""
