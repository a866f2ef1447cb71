// Compiles the precompiled header (pch.h) once.
