"""localfs backend."""
