using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Wire;

public sealed class RequestValidatorTests
{
    private static readonly ModelSignature Signature = new(
        [
            new TensorSpec("features", TensorDataType.Fp32, [-1, 3]),
            new TensorSpec("segment", TensorDataType.Int64, [-1]),
        ],
        [new TensorSpec("score", TensorDataType.Fp32, [-1, 1])]);

    private static InferenceRequest Request(params Tensor[] inputs) => new("r", inputs);

    private static Tensor Features(int rows, int width = 3, float value = 1f) =>
        Tensor.Create("features", Enumerable.Repeat(value, rows * width).ToArray(), rows, width);

    private static Tensor Segment(int rows) => Tensor.Create("segment", new long[rows], rows);

    [Fact]
    public void A_request_that_fits_the_signature_passes_with_any_number_of_rows()
    {
        Assert.Null(RequestValidator.Validate(Request(Features(1), Segment(1)), Signature, NonFinitePolicy.Reject));
        Assert.Null(RequestValidator.Validate(Request(Segment(7), Features(7)), Signature, NonFinitePolicy.Reject));
    }

    [Fact]
    public void Each_mismatch_is_reported_with_its_code_and_the_input_name()
    {
        AssertError("missing_input", "'segment'", Request(Features(1)));
        AssertError("unknown_input", "'other'", Request(Features(1), Segment(1), Tensor.Create("other", new[] { 1f }, 1)));
        AssertError("duplicate_input", "'segment'", Request(Features(1), Segment(1), Segment(1)));
        AssertError("dtype_mismatch", "input 'features' is FP64 but the model expects FP32", Request(Tensor.Create("features", new double[3], 1, 3), Segment(1)));
        AssertError("shape_mismatch", "input 'features' has shape [1,4] but the model expects [-1,3]", Request(Features(1, width: 4), Segment(1)));
        AssertError("shape_mismatch", "has no rows", Request(Features(0), Segment(0)));
        AssertError("shape_mismatch", "disagree on the number of rows", Request(Features(2), Segment(3)));
        AssertError("non_finite", "input 'features' element 0 is NaN", Request(Features(1, value: float.NaN), Segment(1)));
        AssertError("unknown_output", "'probabilities'", Request(Features(1), Segment(1)) with { RequestedOutputs = ["probabilities"] });
    }

    [Fact]
    public void Non_finite_values_pass_when_the_policy_allows_them()
    {
        Assert.Null(RequestValidator.Validate(Request(Features(1, value: float.PositiveInfinity), Segment(1)), Signature, NonFinitePolicy.Allow));
    }

    private static void AssertError(string code, string messagePart, InferenceRequest request)
    {
        var error = RequestValidator.Validate(request, Signature, NonFinitePolicy.Reject);

        Assert.NotNull(error);
        Assert.Equal(code, error.WireCode);
        Assert.Contains(messagePart, error.Message);
    }
}
