using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>
/// HTTP far above what a model can take (issue 14, overload): a model served one row at a time with
/// a queue of one, and 128 callers at once. Every call gets an answer: served (200) or refused at
/// once as 429 <c>queue_full</c> with <c>Retry-After</c>; never a timeout, a 5xx or a dropped
/// connection. When the load stops, the model serves the next request and the node is ready.
/// </summary>
public sealed class HttpOverloadTests(ITestOutputHelper output)
{
    private const string Model = "overload";
    private const int Callers = 128;
    private const int Requests = 4000;

    [Fact]
    public async Task Callers_far_above_capacity_are_served_or_refused_at_once_and_the_model_recovers()
    {
        await using var node = await TestNode.StartAsync();
        await RegisterAndPromoteAsync(node);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Callers })
        {
            BaseAddress = node.Address,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var answers = new ConcurrentDictionary<string, int>();
        var wrong = new ConcurrentQueue<string>();
        var sent = 0;
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= Requests)
            {
                try
                {
                    using var response = await http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body($"c{caller}-{sent}")));
                    var body = await response.Content.ReadAsStringAsync();
                    var kind = Classify(response, body);
                    answers.AddOrUpdate(kind, 1, (_, n) => n + 1);
                    if (kind.StartsWith("unexpected", StringComparison.Ordinal)) wrong.Enqueue($"{kind}: {body}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    wrong.Enqueue($"no answer: {e.GetType().Name} {e.Message}");
                }
            }
        })));

        output.WriteLine(string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{a.Key} {a.Value}")));
        Assert.True(wrong.IsEmpty, string.Join(Environment.NewLine, wrong.Take(10)));
        Assert.Equal(Requests, answers.Values.Sum());
        Assert.True(answers.GetValueOrDefault("refused") > 0, "the load never filled the queue, so it shows nothing about overload");
        Assert.True(answers.GetValueOrDefault("served") > 0, "nothing was served under load");

        // The load is over: the model serves again, and the node is ready.
        using (var after = await http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequests.Body("after-the-load"))))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
        (await node.WaitForOkAsync("/healthz/ready")).Dispose();
    }

    /// <summary>served; refused (429 queue_full with Retry-After); anything else is unexpected.</summary>
    private static string Classify(HttpResponseMessage response, string body)
    {
        if (response.StatusCode == HttpStatusCode.OK) return "served";
        if (response.StatusCode == HttpStatusCode.TooManyRequests
            && response.Headers.RetryAfter is not null
            && JsonDocument.Parse(body).RootElement.GetProperty("code").GetString() == "queue_full")
            return "refused";
        return $"unexpected {(int)response.StatusCode}";
    }

    /// <summary>The demo network as model <see cref="Model"/>, batching one row at a time with a queue of one, promoted and serving.</summary>
    private static async Task RegisterAndPromoteAsync(TestNode node)
    {
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(DemoModelBuilder.Build(Model, seed: 5).OnnxModel), "file", "model.onnx" },
            { new StringContent("""{"batching":{"max_batch_size":1,"max_queue_size":1}}"""), "manifest" },
        };
        using (var registered = await node.Http.PostAsync($"/api/v1/models/{Model}/versions", content))
        {
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        }
        using (var promoted = await node.Http.PostAsJsonAsync($"/api/v1/models/{Model}/promote", new { version = 1 }))
        {
            Assert.True(promoted.IsSuccessStatusCode, await promoted.Content.ReadAsStringAsync());
        }
        (await node.WaitForOkAsync($"/v2/models/{Model}/ready")).Dispose();
    }
}
