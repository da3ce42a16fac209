"""What a generation holds: catalog, full text, vectors, manifest; generations and their integrity."""
