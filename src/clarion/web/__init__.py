"""The web dashboard: server-rendered pages over the campaigns, analytics and experiments slices."""
