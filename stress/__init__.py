"""Long real-thread harnesses and benchmarks; run each as python -m stress.<name>."""
