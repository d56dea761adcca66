"""depthwise_separable_cnn as a PyTorch model, written by nbunify: (N, 3, 15, 15) -> (N, 10)."""

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class Concat(nn.Module):
    """The outputs of parallel branches, concatenated along the channels."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class DepthwiseSeparableCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv2d_1 = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
        self.conv2d_2 = nn.Conv2d(8, 8, kernel_size=3, padding="same", groups=8, bias=False)
        self.batchnorm_1 = nn.BatchNorm2d(8)
        self.conv2d_3 = nn.Conv2d(8, 16, kernel_size=1)
        self.conv2d_4 = nn.Conv2d(16, 32, kernel_size=3, padding=1, groups=16)
        self.concat_1 = Concat(
            nn.Sequential(OrderedDict([("conv2d_5", nn.Conv2d(32, 4, kernel_size=1))])),
            nn.Sequential(OrderedDict([
                ("conv2d_6", nn.Conv2d(32, 4, kernel_size=3, padding=2, dilation=2)),
                ("conv2d_6_relu", nn.ReLU()),
            ])),
            nn.Identity(),
        )
        self.global_avgpool2d_1 = nn.AdaptiveAvgPool2d(1)
        self.dense_1 = nn.Linear(40, 10)

    def forward(self, x):
        x = F.relu(self.conv2d_1(x))  # (N, 8, 8, 8)
        x = self.conv2d_2(x)  # (N, 8, 8, 8)
        x = self.batchnorm_1(x)  # (N, 8, 8, 8)
        x = F.silu(x)  # (N, 8, 8, 8)
        x = F.leaky_relu(self.conv2d_3(x))  # (N, 16, 8, 8)
        x = self.conv2d_4(x)  # (N, 32, 8, 8)
        x = torch.sigmoid(x)  # (N, 32, 8, 8)
        x = self.concat_1(x)  # (N, 40, 8, 8)
        x = torch.flatten(self.global_avgpool2d_1(x), 1)  # (N, 40)
        return self.dense_1(x)  # (N, 10)


if __name__ == "__main__":
    model = DepthwiseSeparableCnn().eval()
    x = torch.randn(2, 3, 15, 15)
    with torch.no_grad():
        print(model(x).shape)  # torch.Size([2, 10])
