def workspace(request) -> dict:
    # Error pages may render for a request the workspace middleware never saw.
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "membership": membership,
        "workspace": membership.workspace,
        "workspaces": [other.workspace for other in request.memberships],
    }
