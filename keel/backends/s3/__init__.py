"""s3 backend."""
