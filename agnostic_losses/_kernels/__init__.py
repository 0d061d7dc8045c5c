"""Loss kernels by family. Each takes the namespace ``xp`` first and arrays already validated;
none knows which public surface called it."""
