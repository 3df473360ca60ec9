def workspace(request) -> dict:
    if not request.user.is_authenticated:
        return {}
    return {
        "membership": request.membership,
        "workspace": request.workspace,
        "workspaces": request.user.workspaces.order_by("name"),
    }
