"""The desk served to browsers (``callgate serve``)."""
