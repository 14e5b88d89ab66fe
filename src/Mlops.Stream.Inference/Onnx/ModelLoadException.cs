namespace Mlops.Stream.Inference.Onnx;

/// <summary>
/// A model version could not be brought into service: ONNX Runtime rejected it, the requested
/// device is unusable, its signature differs from the expected one, or warm-up failed. A version
/// that throws this never replaces the one serving.
/// </summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);
