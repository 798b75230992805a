"""forewarn."""
