namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// Checks one decoded request against a model signature: input names, datatypes, shapes (-1 on
/// the batch axis matches any row count), row agreement between inputs, NaN/infinity policy and
/// requested outputs. Runs per request before batching, so one bad request is refused on its own
/// and never fails the requests it would have been batched with.
/// </summary>
public static class RequestValidator
{
    /// <returns>null when the request fits the signature, else the first problem found.</returns>
    public static InferenceError? Validate(InferenceRequest request, ModelSignature signature, NonFinitePolicy nonFinite)
    {
        long rows = -1;
        string? rowsInput = null;
        var inputs = request.Inputs;
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            for (var j = 0; j < i; j++)
            {
                if (inputs[j].Name == input.Name)
                {
                    return new(InferenceErrorCode.DuplicateInput, $"request '{request.Id}': input '{input.Name}' appears more than once");
                }
            }

            var spec = signature.FindInput(input.Name);
            if (spec is null)
            {
                return new(
                    InferenceErrorCode.UnknownInput,
                    $"request '{request.Id}': the model has no input '{input.Name}' (inputs: {Names(signature.Inputs)})");
            }

            if (spec.DataType != input.DataType)
            {
                return new(
                    InferenceErrorCode.DtypeMismatch,
                    $"request '{request.Id}': input '{input.Name}' is {input.DataType.ToWireName()} but the model expects {spec.DataType.ToWireName()}");
            }

            var shape = input.Shape.AsSpan();
            if (!spec.Accepts(shape))
            {
                return new(
                    InferenceErrorCode.ShapeMismatch,
                    $"request '{request.Id}': input '{input.Name}' has shape {Tensor.FormatShape(shape)} " +
                    $"but the model expects {Tensor.FormatShape(spec.Shape.AsSpan())} (-1 = any size)");
            }

            if (spec.HasBatchAxis)
            {
                if (shape[0] == 0)
                {
                    return new(InferenceErrorCode.ShapeMismatch, $"request '{request.Id}': input '{input.Name}' has no rows");
                }

                if (rowsInput is not null && shape[0] != rows)
                {
                    return new(
                        InferenceErrorCode.ShapeMismatch,
                        $"request '{request.Id}': inputs disagree on the number of rows ('{rowsInput}' has {rows}, '{input.Name}' has {shape[0]})");
                }

                rows = shape[0];
                rowsInput = input.Name;
            }

            if (nonFinite == NonFinitePolicy.Reject && FirstNonFinite(input) is var (index, value) && index >= 0)
            {
                return new(
                    InferenceErrorCode.NonFinite,
                    $"request '{request.Id}': input '{input.Name}' element {index} is {value}; non-finite values are rejected");
            }
        }

        foreach (var spec in signature.Inputs)
        {
            if (request.FindInput(spec.Name) is null)
            {
                return new(InferenceErrorCode.MissingInput, $"request '{request.Id}' lacks input {spec}");
            }
        }

        if (request.RequestedOutputs is { } requested)
        {
            foreach (var name in requested)
            {
                if (signature.FindOutput(name) is null)
                {
                    return new(
                        InferenceErrorCode.UnknownOutput,
                        $"request '{request.Id}' asks for output '{name}', which the model does not produce (outputs: {Names(signature.Outputs)})");
                }
            }
        }

        return null;
    }

    private static (long Index, string Value) FirstNonFinite(Tensor tensor)
    {
        switch (tensor.DataType)
        {
            case TensorDataType.Fp32:
                var floats = tensor.Span<float>();
                for (var i = 0; i < floats.Length; i++)
                {
                    if (!float.IsFinite(floats[i]))
                    {
                        return (i, Describe(floats[i]));
                    }
                }

                break;
            case TensorDataType.Fp64:
                var doubles = tensor.Span<double>();
                for (var i = 0; i < doubles.Length; i++)
                {
                    if (!double.IsFinite(doubles[i]))
                    {
                        return (i, Describe(doubles[i]));
                    }
                }

                break;
        }

        return (-1, "");
    }

    private static string Describe(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";

    private static string Names(IEnumerable<TensorSpec> specs) => string.Join(", ", specs.Select(s => $"'{s.Name}'"));
}
