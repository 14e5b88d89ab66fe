using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Mlops.Stream.Http.Security;
using Swashbuckle.AspNetCore.SwaggerUI;

namespace Mlops.Stream.Http;

/// <summary>
/// The API's own documentation: an OpenAPI 3.1 document generated from the mapped endpoints at
/// <see cref="DocumentPath"/>, and Swagger UI at <see cref="PagePath"/>, served from the files
/// embedded in its package so the page opens on a machine without internet. Both are open like the
/// health routes (<see cref="AccessPolicy"/>): they describe the API's shape, never its data.
/// Each route states its own summary and error statuses where it is mapped (<see cref="Errors"/>);
/// what the edge adds in front of every guarded route (401, 403, 429, the bearer scheme) is added
/// here, from the same <see cref="AccessPolicy"/> that enforces it.
/// </summary>
public static class ApiDocs
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string PagePath = "/docs";

    /// <summary>The security scheme's name in the document: an API key or a JWT, both as <c>Authorization: Bearer</c>.</summary>
    private const string BearerScheme = "bearer";

    public static IServiceCollection AddMlopsApiDocs(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer(DescribeDocument);
            options.AddOperationTransformer(AddEdgeResponsesAsync);
        });

    /// <summary>Maps the document and the page; called by <c>MapMlopsApis</c> after the security middleware.</summary>
    public static WebApplication MapMlopsApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").WithTags("Documentation")
            .WithSummary("This OpenAPI document").ExcludeFromDescription();
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = PagePath.TrimStart('/');
            options.SwaggerEndpoint(DocumentPath, "Mlops.Stream v1");
            options.DocumentTitle = "Mlops.Stream API";
            // Swagger UI would send the document to swagger.io's online validator: nothing leaves the node.
            options.ConfigObject.ValidatorUrl = null;
            options.DocExpansion(DocExpansion.List);
        });
        return app;
    }

    /// <summary>
    /// Declares the error bodies (<see cref="ErrorResponse"/>) a route answers with, beside the ones
    /// the edge adds to every guarded route. Every status a route's handler can return is listed
    /// where the route is mapped, so the document and the code are read side by side.
    /// </summary>
    public static RouteHandlerBuilder Errors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<ErrorResponse>(status, "application/json");
        }
        return builder;
    }

    /// <summary>
    /// Declares a request body that the handler reads itself (as bytes or a stream), in the document
    /// only. Not <c>Accepts</c>: that also makes routing refuse every other content type with a bare
    /// 415 before the handler runs, and these handlers judge the body themselves (the binary tensor
    /// extension on infer is recognised by its header, not its content type).
    /// </summary>
    public static RouteHandlerBuilder DocumentsBody<TBody>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(TBody), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = contentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
            };
        });

    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Mlops.Stream",
            Version = DocumentName,
            Description =
                "A Kafka-fed model server. `/v2` is the Open Inference Protocol (KServe v2) for inference; " +
                "`/api/v1` is the admin API the `mlops` CLI uses. Errors are `{\"error\": message, \"code\": code}` " +
                "with a stable `code`. Inference routes need a key with the infer or admin role, `/api/v1` the admin " +
                "role, sent as `Authorization: Bearer <key or JWT>`; health, metrics and these docs need none.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key (Security:AdminKeys / Security:InferKeys) or a JWT from the configured OpenID Connect issuer.",
        };
        return Task.CompletedTask;
    }

    /// <summary>
    /// What the edge answers before a route runs: 401 and 403 from the key and role checks on every
    /// guarded route, 429 from the rate limiter, and the bearer scheme as the route's requirement.
    /// </summary>
    private static async Task AddEdgeResponsesAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var path = "/" + (context.Description.RelativePath ?? "").Split('?')[0];
        operation.Responses ??= [];
        var error = await context.GetOrCreateSchemaAsync(typeof(ErrorResponse), null, cancellationToken);
        AddError(operation, StatusCodes.Status429TooManyRequests, "The caller's rate limit is spent (`rate_limited`, with `Retry-After`).", error);
        if (AccessPolicy.For(path) == RouteAccess.Open)
        {
            return;
        }
        AddError(operation, StatusCodes.Status401Unauthorized, "No key or token was sent where one is needed (`key_required`), or it is not valid (`invalid_key`).", error);
        AddError(operation, StatusCodes.Status403Forbidden, "The caller's role may not call this route (`forbidden`), or no admin key is configured on a node listening beyond loopback (`admin_key_not_configured`).", error);
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] }];
    }

    private static void AddError(OpenApiOperation operation, int status, string description, IOpenApiSchema schema)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key)) return;
        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new OpenApiMediaType { Schema = schema } },
        };
    }
}
