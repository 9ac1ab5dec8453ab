"""Qt widgets, Qt item models, and the bridge between the engine thread and the Qt thread."""
