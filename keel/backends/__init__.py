"""Adapters that implement keel's ports. Imported only by keel.app, chosen by URI scheme."""
