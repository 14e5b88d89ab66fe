using System.Text;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests.Infrastructure;

/// <summary>Requests for the demo model as load tests send them: one row of its 30 features, by HTTP or as a Kafka record.</summary>
public static class DemoRequests
{
    public static readonly float[] Features = [.. Enumerable.Range(0, 30).Select(i => i / 30f)];

    /// <summary>The v2 request body with id <paramref name="id"/>.</summary>
    public static byte[] Body(string id) => InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", Features, 1, 30)]));

    /// <summary>
    /// Infers one row of the demo model over HTTP with request id <paramref name="id"/> (so the node
    /// writes its served event) and returns the predicted class, the "label" output.
    /// </summary>
    public static async Task<int> InferAsync(TestNode node, string model, string id, float[] row)
    {
        using var content = new ByteArrayContent(InferenceCodec.EncodeRequest(new InferenceRequest(id, [Tensor.Create("features", row, 1, row.Length)])));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await node.Http.PostAsync($"/v2/models/{model}/infer", content);
        var answer = await response.Content.ReadAsStringAsync();
        Xunit.Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, answer);
        var label = System.Text.Json.JsonDocument.Parse(answer).RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label");
        return label.GetProperty("data")[0].GetInt32();
    }

    /// <summary>The request record: key and <c>mlops-request-id</c> are the id, the value its body.</summary>
    public static Message<string, byte[]> Record(string id) => new()
    {
        Key = id,
        Value = Body(id),
        Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(id) } },
    };
}
