"""vgglib: VGG16 from scratch in numpy."""
