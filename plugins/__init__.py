"""Built-in plugins. Each is registered through the ``personalizer`` entry-point group,
exactly as a third-party plugin package would be."""
