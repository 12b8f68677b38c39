"""The build's stages, in order: read -> pair -> chunk -> embed -> align -> decide -> write."""
