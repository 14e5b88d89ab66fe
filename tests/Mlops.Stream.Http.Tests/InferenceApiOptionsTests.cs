using System.Net;
using Microsoft.Extensions.Options;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests;

/// <summary>The inference limits: defaults, binding from configuration, and validation at start.</summary>
public sealed class InferenceApiOptionsTests
{
    [Fact]
    public void Defaults_are_4_MiB_and_30_seconds()
    {
        var options = new InferenceApiOptions();

        Assert.Equal(4 * 1024 * 1024, options.MaxRequestBodyBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), options.InferTimeout);
        Assert.True(new InferenceApiOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validation_names_each_bad_key()
    {
        var result = new InferenceApiOptionsValidator().Validate(null, new InferenceApiOptions { MaxRequestBodyBytes = 0, InferTimeout = TimeSpan.Zero });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Http:Inference:MaxRequestBodyBytes ", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Http:Inference:InferTimeout ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_with_bad_limits_fails_to_start_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestApp.StartAsync(configuration: new Dictionary<string, string?> { ["Http:Inference:InferTimeout"] = "-00:00:01" }));

        Assert.Contains("Http:Inference:InferTimeout", error.Message);
    }

    [Fact]
    public async Task Limits_are_bound_from_the_Http_Inference_section()
    {
        await using var app = await TestApp.StartAsync(configuration: new Dictionary<string, string?> { ["Http:Inference:MaxRequestBodyBytes"] = "10" });

        using var response = await app.Http.PostAsync("/v2/models/fraud/infer", V2.Json(new byte[11]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}
